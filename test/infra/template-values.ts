import type { Template } from 'aws-cdk-lib/assertions';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

type TemplateJson = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: string } }>;
};

/**
 * Turns CloudFormation values of the synthesized templates into text, so tests can read a
 * policy's resources or a function's variables. Two readings: `symbolic` names what a value
 * refers to (`${JobsTable1970BC16.Arn}/index/run_id-index`, following cross-stack imports back to
 * the data stack's resources), `deployed` gives what the value would be once deployed, from the
 * resources' own properties and AWS's formats, with the longest names AWS allows where the
 * stack leaves a name to CloudFormation (buckets).
 */
export class TemplateValues {
  readonly #exports = new Map<string, { value: unknown; stack: TemplateJson }>();
  readonly #templates: TemplateJson[];

  constructor(templates: readonly Template[]) {
    this.#templates = templates.map((template) => template.toJSON() as TemplateJson);
    for (const stack of this.#templates) {
      for (const output of Object.values(stack.Outputs ?? {})) {
        if (output.Export) this.#exports.set(output.Export.Name, { value: output.Value, stack });
      }
    }
  }

  /** What `value` refers to, as text. */
  symbolic(value: unknown): string {
    return this.#render(value, undefined, 'symbolic');
  }

  /** What `value` of `template` would be once deployed. */
  deployed(value: unknown, template: Template): string {
    return this.#render(value, template.toJSON() as TemplateJson, 'deployed');
  }

  #render(value: unknown, stack: TemplateJson | undefined, mode: 'symbolic' | 'deployed'): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    const object = value as Record<string, unknown>;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map((part) => this.#render(part, stack, mode)).join(separator);
    }
    if ('Fn::ImportValue' in object) {
      const exported = this.#exports.get(object['Fn::ImportValue'] as string);
      if (!exported) throw new Error(`no export ${JSON.stringify(object['Fn::ImportValue'])}`);
      return this.#render(exported.value, exported.stack, mode);
    }
    if ('Ref' in object) {
      const name = object.Ref as string;
      const pseudo = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT };
      if (name in pseudo) return pseudo[name as keyof typeof pseudo];
      if (name === 'AWS::URLSuffix') return 'amazonaws.com';
      return mode === 'symbolic' ? `\${${name}}` : this.#deployedRef(name, stack);
    }
    if ('Fn::GetAtt' in object) {
      const [name, attribute] = object['Fn::GetAtt'] as [string, string];
      return mode === 'symbolic'
        ? `\${${name}.${attribute}}`
        : this.#deployedAttribute(name, attribute, stack);
    }
    throw new Error(`cannot render ${JSON.stringify(value)}`);
  }

  #resource(name: string, stack: TemplateJson | undefined) {
    const resource = stack?.Resources[name];
    if (!resource) throw new Error(`no resource ${name}`);
    return resource;
  }

  #deployedRef(name: string, stack: TemplateJson | undefined): string {
    const { Type, Properties = {} } = this.#resource(name, stack);
    switch (Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${String(Properties.QueueName)}`;
      case 'AWS::DynamoDB::Table':
        return String(Properties.TableName);
      case 'AWS::S3::Bucket':
        return 'b'.repeat(63);
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${String(Properties.Name)}-AbCdEf`;
      default:
        throw new Error(`no deployed reference for ${Type}`);
    }
  }

  #deployedAttribute(name: string, attribute: string, stack: TemplateJson | undefined): string {
    const { Type, Properties = {} } = this.#resource(name, stack);
    if (Type === 'AWS::DynamoDB::Table' && attribute === 'StreamArn') {
      return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${String(Properties.TableName)}/stream/2026-01-01T00:00:00.000`;
    }
    if (Type === 'AWS::SQS::Queue' && attribute === 'Arn') {
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${String(Properties.QueueName)}`;
    }
    throw new Error(`no deployed ${attribute} for ${Type}`);
  }
}
