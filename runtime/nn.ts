/**
 * `nn`: neural-network building blocks. This release has the functional forms; layers and modules
 * come with the nn issue.
 *
 * @example
 * import { nn } from "typetorch";
 * nn.functional.relu(x);
 */
export * as functional from "./nn/functional.js";
