// lfm-operator/models: the LfmDeployment model for kosko and other kubernetes-models users.
export { LfmDeployment, LfmDeploymentValidationError, type ILfmDeployment } from './lfm-deployment.js';
export type { FieldProblem, ParseResult } from '../api/parse.js';
