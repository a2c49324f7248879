import { JobType } from '../statuses.js';

/** The job queues, one per job type (DESIGN.md section 5). */
export const QueueName = {
  discovery: 'discovery',
  tasks: 'tasks',
  artifacts: 'artifacts',
  releases: 'releases',
} as const;
/** One of {@link QueueName}. */
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

/** How a queue holds its messages. */
export interface QueueSettings {
  /** How long a received message stays hidden from other consumers. */
  readonly visibilityTimeoutSeconds: number;
  /** How long an unconsumed message is kept. */
  readonly retentionSeconds: number;
  /** Receives after which a message goes to the dead-letter queue instead. */
  readonly maxReceiveCount: number;
}

/** Settings of every queue (DESIGN.md section 5); each has a dead-letter queue. */
export const QUEUE_SETTINGS: Readonly<Record<QueueName, QueueSettings>> = {
  discovery: { visibilityTimeoutSeconds: 300, retentionSeconds: 3600, maxReceiveCount: 3 },
  tasks: { visibilityTimeoutSeconds: 1800, retentionSeconds: 7200, maxReceiveCount: 3 },
  artifacts: { visibilityTimeoutSeconds: 1200, retentionSeconds: 3600, maxReceiveCount: 3 },
  releases: { visibilityTimeoutSeconds: 900, retentionSeconds: 3600, maxReceiveCount: 3 },
};

/** The longest a receive may wait for a message (SQS long polling). */
export const MAX_LONG_POLL_SECONDS = 20;

/** The most messages one receive returns (SQS's limit). */
export const MAX_RECEIVE_BATCH = 10;

/** Dead-letter queues keep a message for 14 days, SQS's maximum, so nothing is lost unseen. */
export const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;

/** Which queue carries jobs of a type. */
export function queueForJobType(type: JobType): QueueName {
  switch (type) {
    case JobType.discovery:
      return QueueName.discovery;
    case JobType.task:
      return QueueName.tasks;
    case JobType.artifact:
      return QueueName.artifacts;
    case JobType.release:
      return QueueName.releases;
  }
}
