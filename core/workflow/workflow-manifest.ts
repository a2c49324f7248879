/**
 * The subset of Argo's `Workflow` resource (`argoproj.io/v1alpha1`) that a pipeline run's
 * manifest uses, typed so that rendering cannot produce a field Argo does not know. Field names
 * and shapes follow Argo's schema; Kubernetes IntOrString fields (`limit`, `factor`) are strings.
 */

/** A parameter: a workflow argument, a template input, a step argument or an output. */
export interface WorkflowParameter {
  readonly name: string;
  readonly value?: string;
  /** Outputs only: read the value from a file of the container once it exits. */
  readonly valueFrom?: { readonly path: string; readonly default?: string };
}

/** A Kubernetes toleration, as a pod spec takes it. */
export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  readonly tolerationSeconds?: number;
}

/** Where a container takes environment variables from, all keys at once. */
export type EnvFromSource =
  | { readonly configMapRef: { readonly name: string } }
  | { readonly secretRef: { readonly name: string } };

/** CPU and memory, as Kubernetes quantities (`50m`, `128Mi`). */
export interface ResourceList {
  readonly cpu: string;
  readonly memory: string;
}

/** A dispatcher's container. */
export interface WorkflowContainer {
  readonly image: string;
  readonly imagePullPolicy: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly envFrom: readonly EnvFromSource[];
  readonly resources: { readonly requests: ResourceList; readonly limits: ResourceList };
}

/** When and how Argo runs a failed container template again. */
export interface RetryStrategy {
  /** Retries after the first attempt (IntOrString, as text). */
  readonly limit: string;
  readonly retryPolicy: 'Always' | 'OnFailure' | 'OnError' | 'OnTransientError';
  /** An expr-lang condition over `lastRetry.*`; false means no retry. */
  readonly expression: string;
  readonly backoff: {
    readonly duration: string;
    /** IntOrString, as text. */
    readonly factor: string;
    readonly cap: string;
  };
}

/** One step of a steps template. */
export interface WorkflowStep {
  readonly name: string;
  readonly template: string;
  readonly arguments?: { readonly parameters: readonly WorkflowParameter[] };
  /** A JSON list (after substitution): the step runs once per item, in parallel. */
  readonly withParam?: string;
  /** A govaluate condition (after substitution); false skips the step. */
  readonly when?: string;
}

interface TemplateBase {
  readonly name: string;
  readonly inputs?: { readonly parameters: readonly WorkflowParameter[] };
}

/**
 * A template of steps: the outer list runs one after another, each inner list in parallel.
 * `parallelism` caps how many children run at once; `failFast` stops scheduling more children
 * once one has failed.
 */
export interface StepsTemplate extends TemplateBase {
  readonly steps: readonly (readonly WorkflowStep[])[];
  readonly parallelism?: number;
  readonly failFast?: boolean;
}

/** A template that runs one dispatcher container. */
export interface ContainerTemplate extends TemplateBase {
  readonly container: WorkflowContainer;
  readonly outputs?: { readonly parameters: readonly WorkflowParameter[] };
  readonly retryStrategy: RetryStrategy;
}

/** Any template of a run's workflow. */
export type WorkflowTemplate = StepsTemplate | ContainerTemplate;

/** The `spec` of a run's workflow. */
export interface WorkflowSpec {
  readonly entrypoint: string;
  /** The template Argo runs when the workflow ends, whatever its outcome (exit handler). */
  readonly onExit: string;
  readonly arguments: { readonly parameters: readonly WorkflowParameter[] };
  /** Pods of the workflow running at once. */
  readonly parallelism: number;
  readonly activeDeadlineSeconds: number;
  readonly podGC: { readonly strategy: 'OnPodCompletion' };
  readonly serviceAccountName: string;
  readonly podMetadata: { readonly labels: Readonly<Record<string, string>> };
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly Toleration[];
  readonly templates: readonly WorkflowTemplate[];
}

/** One pipeline run's Argo Workflow, ready to be created in the cluster. */
export interface WorkflowManifest {
  readonly apiVersion: 'argoproj.io/v1alpha1';
  readonly kind: 'Workflow';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  };
  readonly spec: WorkflowSpec;
}
