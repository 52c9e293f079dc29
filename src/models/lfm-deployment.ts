// The LfmDeployment model for kubernetes-models users (import { LfmDeployment } from 'lfm-operator/models'), kosko
// above all: a @kubernetes-models/base Model typed from the API's zod input type, whose validate() refuses what the
// API server would refuse (schema, then the CRD's CEL rules), naming the field and the fix. Performs no I/O.
import { createTypeMetaGuard, Model, type ModelData, type TypeMetaGuard } from '@kubernetes-models/base';
import { parseLfmDeployment, type FieldProblem, type ParseResult } from '../api/parse.js';
import { API_VERSION, KIND, type LfmDeploymentInput } from '../api/v1alpha1.js';

/**
 * An LfmDeployment as a user writes it (before defaults): fields with a default are optional.
 * `kubectl explain lfmdeployment.spec` documents every field.
 */
export type ILfmDeployment = LfmDeploymentInput;

/** What validate() throws: every problem the API server would report, each naming its field. */
export class LfmDeploymentValidationError extends Error {
  override readonly name = 'LfmDeploymentValidationError';

  constructor(
    /** metadata.name of the refused object, or <unnamed>. */
    readonly resourceName: string,
    /** The problems, schema first, then CEL, each with its field path (spec.quantization, spec.replicas...). */
    readonly problems: readonly FieldProblem[],
  ) {
    super(problems.map((p) => `LfmDeployment ${resourceName}: ${p.field ? `${p.field}: ` : ''}${p.message}`).join('; '));
  }
}

/** A serving.lfm-operator.io/v1alpha1 LfmDeployment. */
export class LfmDeployment extends Model<ILfmDeployment> implements ILfmDeployment {
  // `declare`: no class field initializers, so they cannot overwrite what the constructor sets.
  declare apiVersion: ILfmDeployment['apiVersion'];
  declare kind: ILfmDeployment['kind'];
  declare metadata: ILfmDeployment['metadata'];
  declare spec: ILfmDeployment['spec'];
  declare status?: ILfmDeployment['status'];

  static readonly apiVersion: ILfmDeployment['apiVersion'] = API_VERSION;
  static readonly kind: ILfmDeployment['kind'] = KIND;
  static readonly is: TypeMetaGuard<ILfmDeployment> = createTypeMetaGuard<ILfmDeployment>({ apiVersion: API_VERSION, kind: KIND });

  constructor(data: ModelData<ILfmDeployment>) {
    super();
    this.setDefinedProps({ apiVersion: LfmDeployment.apiVersion, kind: LfmDeployment.kind, ...data } as ModelData<ILfmDeployment>);
  }

  /** The manifest: apiVersion, kind, metadata, spec (and status when set), undefined values left out. */
  override toJSON(): ILfmDeployment {
    return super.toJSON() as ILfmDeployment;
  }

  /** The object as the API server would admit it: defaults applied, or the problems with their field paths. */
  parse(): ParseResult {
    return parseLfmDeployment(this.toJSON());
  }

  /**
   * Throws an LfmDeploymentValidationError when the API server would refuse the object (the same schema and CEL
   * checks as `lfm-operator plan`); kosko calls it on `kosko generate` and `kosko validate`.
   */
  override validate(): void {
    const result = this.parse();
    if (!result.ok) throw new LfmDeploymentValidationError(result.name, result.problems);
  }
}
