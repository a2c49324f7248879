/**
 * An estimate of the size of a workflow's status once every node ran, to compare with Argo's
 * limit: the controller keeps the workflow under `MAX_WORKFLOW_SIZE` (1 MiB by default,
 * `workflow/packer/packer.go`), gzipping `status.nodes` into `compressedNodes` when the whole
 * object is larger, and failing the workflow when even that is too large. Each node is given
 * the fields a finished node carries, with realistic ids and times.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { WorkflowManifest } from '../../core/workflow/workflow-manifest.js';
import type { SimulatedNode } from './argo-run-simulation.js';

/** Argo's default `MAX_WORKFLOW_SIZE`. */
export const MAX_WORKFLOW_SIZE = 1024 * 1024;

/** What the estimate found. */
export interface StatusSize {
  readonly nodes: number;
  /** The whole workflow object, with `status.nodes` as plain JSON. */
  readonly bytes: number;
  /** The whole workflow object, with `status.nodes` gzipped and base64-encoded as Argo does. */
  readonly compressedBytes: number;
}

/** The size of `manifest` with a status holding `nodes`, plain and as Argo would compress it. */
export function estimateStatusSize(
  manifest: WorkflowManifest,
  nodes: readonly SimulatedNode[],
): StatusSize {
  const id = (name: string) =>
    `${manifest.metadata.name}-${parseInt(createHash('sha256').update(name).digest('hex').slice(0, 8), 16)}`;
  const statusNodes = Object.fromEntries(
    nodes.map((node) => {
      const parameters = Object.entries(node.parameters).map(([name, value]) => ({ name, value }));
      return [
        id(node.name),
        {
          id: id(node.name),
          name: node.name,
          displayName: node.displayName,
          type: node.type,
          templateName: node.template,
          templateScope: 'local/',
          phase: node.type === 'Skipped' ? 'Skipped' : 'Succeeded',
          boundaryID: id(node.name.slice(0, node.name.lastIndexOf('.')) || node.name),
          startedAt: '2030-01-01T00:00:00Z',
          finishedAt: '2030-01-01T00:05:00Z',
          progress: '1/1',
          resourcesDuration: { cpu: 3, memory: 41 },
          ...(node.type === 'Pod'
            ? { hostNodeName: 'ip-10-20-123-45.eu-west-1.compute.internal' }
            : {}),
          ...(parameters.length === 0 ? {} : { inputs: { parameters } }),
          ...(node.type === 'Pod' ? { outputs: { exitCode: '0' } } : {}),
          children: [id(`${node.name}(0)`)],
          outboundNodes: [id(`${node.name}(0)`)],
        },
      ];
    }),
  );
  const workflow = (status: object) =>
    Buffer.byteLength(JSON.stringify({ ...manifest, status: { phase: 'Succeeded', ...status } }));
  const nodesJson = JSON.stringify(statusNodes);
  return {
    nodes: nodes.length,
    bytes: workflow({ nodes: statusNodes }),
    compressedBytes: workflow({ compressedNodes: gzipSync(nodesJson).toString('base64') }),
  };
}
