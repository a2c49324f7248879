import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Stats,
  TreatMissingData,
  type IAlarmAction,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** SQS publishes its metrics once a minute. */
const PERIOD = Duration.minutes(1);

/**
 * CloudWatch alarms on queues, all notifying one action (the stage's alarm topic): a message in
 * a dead-letter queue means work that failed three times and needs a person; an old message in
 * a job queue means the pool behind it is not keeping up (or not running) and jobs are close to
 * expiring unprocessed.
 */
export class QueueAlarms extends Construct {
  readonly #action: IAlarmAction;

  constructor(scope: Construct, id: string, props: { readonly action: IAlarmAction }) {
    super(scope, id);
    this.#action = props.action;
  }

  /** Alarms as soon as one message is visible in `queue`. */
  onAnyMessage(label: string, queue: IQueue): Alarm {
    const alarm = new Alarm(this, `${label}Messages`, {
      alarmDescription: `${label}: a message is waiting in a dead-letter queue`,
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: PERIOD,
        statistic: Stats.MAXIMUM,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.#action);
    return alarm;
  }

  /** Alarms when the oldest message of `queue` has waited longer than `maxAgeSeconds`. */
  onOldestMessageAge(label: string, queue: IQueue, maxAgeSeconds: number): Alarm {
    const alarm = new Alarm(this, `${label}OldestMessageAge`, {
      alarmDescription: `${label}: a message has waited more than ${maxAgeSeconds} s`,
      metric: queue.metricApproximateAgeOfOldestMessage({
        period: PERIOD,
        statistic: Stats.MAXIMUM,
      }),
      threshold: maxAgeSeconds,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.#action);
    return alarm;
  }
}
