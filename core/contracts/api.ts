import { z } from 'zod';
import { ExecutionStatus } from '../statuses.js';

/** A GitHub repository as `owner/name`, with GitHub's character rules for both parts. */
export const RepositoryFullNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/,
    'must be a GitHub repository as "owner/name"',
  );

/**
 * A full commit id: 40 hexadecimal characters (SHA-1), or 64 (SHA-256 repositories).
 * Lower-cased, so that the same commit always finds the same run.
 */
export const CommitShaSchema = z
  .string()
  .toLowerCase()
  .regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'must be a full commit SHA (40 or 64 hex characters)');

/**
 * A branch or tag name that git itself would accept (`git check-ref-format --branch`), at most
 * 255 characters; a leading `-` is refused so that a name can never pass for a CLI option.
 */
export const GitRefNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine(isGitRefName, 'must be a valid git branch or tag name');

/** Why a run was started. */
export const TriggerType = {
  push: 'push',
  pullRequest: 'pull_request',
  manual: 'manual',
} as const;
/** One of {@link TriggerType}. */
export type TriggerType = (typeof TriggerType)[keyof typeof TriggerType];

/** The commit status context used when the caller names none (DESIGN.md section 7). */
export const DEFAULT_GITHUB_STATUS_CONTEXT = 'ci/catalyst-forge';

/** Where GitHub reports go: the pull request (if any), the Actions run, the status context. */
export const GitHubContextSchema = z.object({
  pr_number: z.int().positive().nullable().optional(),
  run_id: z.string().min(1).max(100).optional(),
  context: z.string().min(1).max(255).default(DEFAULT_GITHUB_STATUS_CONTEXT),
  check_run_id: z.string().min(1).max(100).optional(),
});
/** A validated {@link GitHubContextSchema}, defaults applied. */
export type GitHubContext = z.infer<typeof GitHubContextSchema>;

/**
 * Body of `POST /v1/runs`. Creation is idempotent on (repository, commit_sha), hence the
 * normalised commit id.
 */
export const CreateRunRequestSchema = z.object({
  repository: RepositoryFullNameSchema,
  commit_sha: CommitShaSchema,
  branch: GitRefNameSchema.optional(),
  tag: GitRefNameSchema.optional(),
  trigger_type: z.enum(TriggerType).default(TriggerType.push),
  github_context: GitHubContextSchema.optional(),
});
/** A validated `POST /v1/runs` body, defaults applied. */
export type CreateRunRequest = z.infer<typeof CreateRunRequestSchema>;
/** What a client may send to `POST /v1/runs` (defaulted fields optional). */
export type CreateRunRequestInput = z.input<typeof CreateRunRequestSchema>;

/**
 * Body of `PUT /v1/tasks/{id}/status` and `PUT /v1/steps/{id}/status`. The exit code is
 * bounded to a 32-bit integer so that no value a client sends can overflow the database column.
 */
export const UpdateExecutionStatusRequestSchema = z.object({
  status: z.enum(ExecutionStatus),
  exit_code: z.int().min(-2_147_483_648).max(2_147_483_647).optional(),
  logs_key: z.string().min(1).max(1024).optional(),
  message: z.string().max(4096).optional(),
});
/** A validated status update for a task or a step. */
export type UpdateExecutionStatusRequest = z.infer<typeof UpdateExecutionStatusRequestSchema>;

/** Body of `PUT /v1/tasks/{id}/status`. */
export const UpdateTaskStatusRequestSchema = UpdateExecutionStatusRequestSchema;
/** A validated task status update. */
export type UpdateTaskStatusRequest = UpdateExecutionStatusRequest;
/** Body of `PUT /v1/steps/{id}/status`. */
export const UpdateStepStatusRequestSchema = UpdateExecutionStatusRequestSchema;
/** A validated step status update. */
export type UpdateStepStatusRequest = UpdateExecutionStatusRequest;

/** Query of `GET /v1/runs`; numbers arrive as strings and are coerced. */
export const ListRunsQuerySchema = z.object({
  repository: RepositoryFullNameSchema.optional(),
  branch: GitRefNameSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});
/** A validated run listing query, defaults applied. */
export type ListRunsQuery = z.infer<typeof ListRunsQuerySchema>;

/** The machine-readable `error.code` of every API error. */
export const ErrorCode = {
  badRequest: 'bad_request',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  notFound: 'not_found',
  conflict: 'conflict',
  payloadTooLarge: 'payload_too_large',
  unprocessable: 'unprocessable',
  internal: 'internal',
} as const;
/** One of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status that goes with each {@link ErrorCode}. */
export const ERROR_HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unprocessable: 422,
  internal: 500,
};

/** Every API error response: `{"error": {"code", "message", "details"}}`. */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.enum(ErrorCode),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
  }),
});
/** An API error response body. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Builds an API error body; `details` is always present (empty when there is nothing to add). */
export function errorBody(
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): ErrorBody {
  return { error: { code, message, details } };
}

/**
 * The `bad_request` body for a request that failed validation: the message names the first
 * problem, `details.issues` lists all of them by path.
 */
export function validationErrorBody(error: z.ZodError): ErrorBody {
  const issues = error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const [first] = issues;
  const summary = first === undefined ? 'invalid request' : describeIssue(first);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return errorBody(ErrorCode.badRequest, `${summary}${more}`, { issues });
}

function describeIssue(issue: { path: string; message: string }): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

// Characters git forbids anywhere in a ref name: controls, space, ~ ^ : ? * [ \ and DEL.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_REF_CHARACTERS = /[\x00-\x20~^:?*[\\\x7f]/;

function isGitRefName(name: string): boolean {
  if (FORBIDDEN_REF_CHARACTERS.test(name)) return false;
  if (
    name === '@' ||
    name.startsWith('-') ||
    name.includes('..') ||
    name.includes('@{') ||
    name.endsWith('.')
  )
    return false;
  return name
    .split('/')
    .every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}
