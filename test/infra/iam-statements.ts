import type { Template } from 'aws-cdk-lib/assertions';
import type { TemplateValues } from './template-values.js';

/** One statement of an IAM policy attached to roles, with its resources as text. */
export interface GrantedStatement {
  /** Logical ids of the roles the policy is attached to. */
  readonly roles: readonly string[];
  readonly effect: string;
  readonly actions: readonly string[];
  /** The resources, rendered by {@link TemplateValues.symbolic}. */
  readonly resources: readonly string[];
  readonly condition: unknown;
}

type PolicyResource = {
  Properties: {
    Roles?: { Ref: string }[];
    PolicyDocument: {
      Statement: {
        Effect: string;
        Action: string | string[];
        Resource: unknown;
        Condition?: unknown;
      }[];
    };
  };
};

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement of every `AWS::IAM::Policy` in `template`. */
export function grantedStatements(template: Template, values: TemplateValues): GrantedStatement[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, PolicyResource>;
  return Object.values(policies).flatMap(({ Properties }) =>
    Properties.PolicyDocument.Statement.map((statement) => ({
      roles: (Properties.Roles ?? []).map((role) => role.Ref),
      effect: statement.Effect,
      actions: asList(statement.Action),
      resources: asList(statement.Resource).map((resource) => values.symbolic(resource)),
      condition: statement.Condition,
    })),
  );
}

/** The statements granted to one role, as `action → resources` (actions sorted). */
export function grantsOf(
  statements: readonly GrantedStatement[],
  role: string,
): Record<string, string[]> {
  const grants: Record<string, string[]> = {};
  for (const statement of statements.filter((candidate) => candidate.roles.includes(role))) {
    for (const action of statement.actions) {
      grants[action] = [...(grants[action] ?? []), ...statement.resources].sort();
    }
  }
  return Object.fromEntries(
    Object.entries(grants).sort(([left], [right]) => left.localeCompare(right)),
  );
}
