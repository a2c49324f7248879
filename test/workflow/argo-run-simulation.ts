/**
 * Walks a rendered workflow the way Argo's controller would for one run whose dispatchers all
 * succeed: templates are entered with their arguments, step groups run in order, loops are
 * expanded with `argo-substitution.ts`, `when` is evaluated, and each container template becomes
 * a pod with its arguments as they would reach `forge-dispatcher`. The discovery dispatcher's
 * outputs are given (the files it wrote). It records the nodes Argo would keep in the
 * workflow's status, with the names it would give them, for size estimates.
 */
import type {
  ContainerTemplate,
  StepsTemplate,
  WorkflowManifest,
  WorkflowTemplate,
} from '../../core/workflow/workflow-manifest.js';
import { evaluateWhen, expandItems, substitute, type ReplaceMap } from './argo-substitution.js';

/** A dispatcher pod, with its arguments after substitution. */
export interface SimulatedPod {
  readonly template: string;
  readonly nodeName: string;
  readonly args: readonly string[];
  /** The container template as Argo would hold it for this pod, every tag substituted. */
  readonly resolved: ContainerTemplate;
}

/** A node of the workflow's status. */
export interface SimulatedNode {
  readonly type: 'Steps' | 'StepGroup' | 'Retry' | 'Pod' | 'Skipped';
  readonly name: string;
  readonly displayName: string;
  readonly template?: string | undefined;
  /** Input parameters (and a pod's output parameters), as stored in the node. */
  readonly parameters: Readonly<Record<string, string>>;
}

/** What the simulated run did. */
export interface SimulatedRun {
  /** Every dispatcher pod, in the order they would start. */
  readonly pods: readonly SimulatedPod[];
  readonly nodes: readonly SimulatedNode[];
}

/** Inputs of the simulation. */
export interface SimulationOptions {
  /** The discovery dispatcher's output parameters, by name (absent ones take their default). */
  readonly discoveryOutputs: Readonly<Record<string, string>>;
  /** `workflow.status` seen by the exit handler; default `Succeeded`. */
  readonly workflowStatus?: 'Succeeded' | 'Failed' | 'Error';
}

/** Runs `manifest` from its entrypoint, then its exit handler. */
export function simulateWorkflow(
  manifest: WorkflowManifest,
  options: SimulationOptions,
): SimulatedRun {
  const pods: SimulatedPod[] = [];
  const nodes: SimulatedNode[] = [];
  const globals: Record<string, string> = {
    'workflow.name': manifest.metadata.name,
    'workflow.namespace': manifest.metadata.namespace,
  };
  for (const parameter of manifest.spec.arguments.parameters) {
    globals[`workflow.parameters.${parameter.name}`] = parameter.value ?? '';
  }
  const templates = new Map(manifest.spec.templates.map((template) => [template.name, template]));

  const enter = (
    templateName: string,
    nodeName: string,
    displayName: string,
    args: ReplaceMap,
  ): Record<string, string> => {
    const template = templates.get(templateName);
    if (template === undefined) throw new Error(`no template ${templateName}`);
    const inputs: Record<string, string> = {};
    for (const { name } of template.inputs?.parameters ?? []) {
      const value = args[name];
      if (value === undefined) throw new Error(`${templateName} needs input ${name}`);
      inputs[`inputs.parameters.${name}`] = value;
    }
    const scope = { ...globals, ...inputs };
    const processed = substitute<WorkflowTemplate>(template, scope, true);
    if ('container' in processed) return runPod(processed, nodeName, displayName, args);
    nodes.push({
      type: 'Steps',
      name: nodeName,
      displayName,
      template: templateName,
      parameters: args,
    });
    return runSteps(processed, nodeName, scope);
  };

  const runPod = (
    template: ContainerTemplate,
    nodeName: string,
    displayName: string,
    args: ReplaceMap,
  ): Record<string, string> => {
    const outputs: Record<string, string> = {};
    for (const parameter of template.outputs?.parameters ?? []) {
      outputs[parameter.name] =
        options.discoveryOutputs[parameter.name] ?? parameter.valueFrom?.default ?? '';
    }
    const unresolved = template.container.args.find((arg) => arg.includes('{{'));
    if (unresolved !== undefined) throw new Error(`${nodeName}: unresolved argument ${unresolved}`);
    nodes.push({
      type: 'Retry',
      name: nodeName,
      displayName,
      template: template.name,
      parameters: args,
    });
    nodes.push({
      type: 'Pod',
      name: `${nodeName}(0)`,
      displayName: `${displayName}(0)`,
      template: template.name,
      parameters: { ...args, ...outputs },
    });
    pods.push({
      template: template.name,
      nodeName,
      args: template.container.args,
      resolved: template,
    });
    return outputs;
  };

  const runSteps = (template: StepsTemplate, nodeName: string, scope: ReplaceMap) => {
    const stepOutputs: Record<string, string> = {};
    template.steps.forEach((group, index) => {
      const groupName = `${nodeName}[${index}]`;
      nodes.push({ type: 'StepGroup', name: groupName, displayName: `[${index}]`, parameters: {} });
      const completed: Record<string, string> = {};
      for (const step of group) {
        const resolved = substitute(step, { ...scope, ...stepOutputs }, true);
        const { withParam, ...single } = resolved;
        const expanded =
          withParam === undefined
            ? [{ name: step.name, variables: {} }]
            : expandItems(step.name, withParam);
        for (const { name, variables } of expanded) {
          const child = substitute(single, { ...scope, ...stepOutputs, ...variables }, false);
          const childName = `${groupName}.${name}`;
          if (child.when !== undefined && !evaluateWhen(child.when)) {
            nodes.push({ type: 'Skipped', name: childName, displayName: name, parameters: {} });
            continue;
          }
          const args = Object.fromEntries(
            (child.arguments?.parameters ?? []).map((parameter) => [
              parameter.name,
              parameter.value ?? '',
            ]),
          );
          const outputs = enter(child.template, childName, name, args);
          for (const [output, value] of Object.entries(outputs)) {
            completed[`steps.${step.name}.outputs.parameters.${output}`] = value;
          }
        }
      }
      Object.assign(stepOutputs, completed);
    });
    return {};
  };

  enter(manifest.spec.entrypoint, manifest.metadata.name, manifest.metadata.name, {});
  globals['workflow.status'] = options.workflowStatus ?? 'Succeeded';
  enter(manifest.spec.onExit, `${manifest.metadata.name}.onExit`, 'onExit', {});
  return { pods, nodes };
}
