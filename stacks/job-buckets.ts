import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectOwnership,
  type LifecycleRule,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LIVE_LOG_ROOT } from '../adapters/aws/s3-live-log.js';

/** Days objects live in each bucket (DESIGN.md section 5). */
export const BUCKET_LIFETIME_DAYS = { results: 7, logs: 90, staging: 1 } as const;

/** Days the segments of a live log may outlive their writer (a step runs at most a day). */
export const LIVE_LOG_SEGMENT_DAYS = 2;

/**
 * The results, logs and staging buckets: private (every public access blocked, bucket owner
 * owns every object), encrypted with S3-managed keys (no KMS grants needed by readers), TLS
 * only, objects expiring after 7, 90 and 1 days, unfinished multipart uploads aborted after a
 * day, and the segment objects of live logs whose writer died removed after two days.
 * Production stages retain the buckets on removal; other stages delete them with their objects.
 */
export class JobBuckets extends Construct {
  readonly results: Bucket;
  readonly logs: Bucket;
  readonly staging: Bucket;

  constructor(scope: Construct, id: string, props: { readonly retainData: boolean }) {
    super(scope, id);
    const bucket = (name: string, rules: LifecycleRule[]) =>
      new Bucket(this, name, {
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
        encryption: BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        versioned: false,
        lifecycleRules: rules,
        removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        autoDeleteObjects: !props.retainData,
      });
    const expireAfter = (days: number): LifecycleRule => ({
      id: `expire-after-${days}-days`,
      expiration: Duration.days(days),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    });
    this.results = bucket('Results', [expireAfter(BUCKET_LIFETIME_DAYS.results)]);
    this.logs = bucket('Logs', [
      expireAfter(BUCKET_LIFETIME_DAYS.logs),
      {
        id: 'expire-abandoned-live-log-segments',
        prefix: LIVE_LOG_ROOT,
        expiration: Duration.days(LIVE_LOG_SEGMENT_DAYS),
      },
    ]);
    this.staging = bucket('Staging', [expireAfter(BUCKET_LIFETIME_DAYS.staging)]);
  }
}
