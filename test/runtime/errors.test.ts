/**
 * The bad-input catalogue: what typetorch rejects at run time, with which error class, and that
 * every message reads `op: expectation, got actual` (it names the op, says what was expected and
 * what it got). Shapes with run-time dims are typed `number[]` (or passed `as never`) to get past
 * tsc, which would otherwise reject most of these calls before they run.
 *
 * Then: a failed in-place op leaves its tensor exactly as it was.
 */
import { describe, expect, it } from "vitest";
import { DeviceError, DTypeError, IndexError, ShapeError, type Tensor, torch, ValueError } from "typetorch";

type ErrorClass = typeof ShapeError | typeof DTypeError | typeof ValueError | typeof IndexError | typeof DeviceError;
type AnyTensor = Tensor<number[], "float32">;

/** Run-time dims: tsc sees `number[]`, so the shape rules pass everything through. */
const dims = (...d: number[]): number[] => d;
const z = (...d: number[]): AnyTensor => torch.zeros(dims(...d)) as AnyTensor;
const ints = (...v: number[]) => torch.tensor(v, { dtype: "int64" });

interface Bad {
  /** What is wrong. */
  what: string;
  run: () => unknown;
  err: ErrorClass;
  /** The op the message must name before its first colon. */
  op: string;
}

const CATALOGUE: Bad[] = [
  // --- shapes that don't fit, with dims only known at run time ---
  { what: "add [2,3] + [4,3]", run: () => z(2, 3).add(z(4, 3)), err: ShapeError, op: "add" },
  { what: "mul [3] * [4]", run: () => z(3).mul(z(4)), err: ShapeError, op: "mul" },
  { what: "eq [2,3] == [3,2]", run: () => z(2, 3).eq(z(3, 2)), err: ShapeError, op: "eq" },
  { what: "where shapes [3] [2] [3]", run: () => torch.where(torch.ones(dims(3), { dtype: "bool" }), z(2), z(3)), err: ShapeError, op: "where" },
  { what: "matmul [2,3] @ [4,5]", run: () => z(2, 3).matmul(z(4, 5)), err: ShapeError, op: "matmul" },
  { what: "matmul batch [2,3,4] @ [3,4,5]", run: () => z(2, 3, 4).matmul(z(3, 4, 5)), err: ShapeError, op: "matmul" },
  { what: "matmul 0-d operand", run: () => z().matmul(z(2)), err: ShapeError, op: "matmul" },
  { what: "mm with a 1-D operand", run: () => z(3).mm(z(3, 2)), err: ShapeError, op: "mm" },
  { what: "bmm with 2-D operands", run: () => z(3, 4).bmm(z(4, 2)), err: ShapeError, op: "bmm" },
  { what: "reshape 24 elements to [5,5]", run: () => z(2, 3, 4).reshape(dims(5, 5)), err: ShapeError, op: "reshape" },
  { what: "reshape with two -1", run: () => z(2, 3).reshape(dims(-1, -1)), err: ShapeError, op: "reshape" },
  { what: "reshape with a negative size", run: () => z(2, 3).reshape(dims(-2, -3)), err: ShapeError, op: "reshape" },
  { what: "view of a transposed tensor", run: () => z(2, 3).t().view(dims(6)), err: ShapeError, op: "view" },
  { what: "expand [3,1] to [4,4]", run: () => z(3, 1).expand(dims(4, 4)), err: ShapeError, op: "expand" },
  { what: "expand to fewer dims", run: () => z(3, 1).expand(dims(4)), err: ShapeError, op: "expand" },
  { what: "cat [2,3] with [2,4] on dim 0", run: () => torch.cat([z(2, 3), z(2, 4)], 0), err: ShapeError, op: "cat" },
  { what: "cat of nothing", run: () => torch.cat([] as never), err: ShapeError, op: "cat" },
  { what: "stack [2,3] with [3,2]", run: () => torch.stack([z(2, 3), z(3, 2)]), err: ShapeError, op: "stack" },
  { what: "permute of the wrong length", run: () => z(2, 3, 4).permute(dims(1, 0)), err: ShapeError, op: "permute" },
  { what: "permute with a repeated dim", run: () => z(2, 3, 4).permute(dims(0, 0, 1)), err: ShapeError, op: "permute" },
  { what: "t of a 3-D tensor", run: () => (z(2, 3, 4) as Tensor<number[]>).t(), err: ShapeError, op: "t" },
  { what: "flatten startDim > endDim", run: () => z(2, 3, 4).flatten(2, 1), err: ShapeError, op: "flatten" },
  { what: "gather index of another rank", run: () => z(3, 4).gather(1, ints(0, 1)), err: ShapeError, op: "gather" },
  { what: "gather index larger than the input", run: () => z(3, 4).gather(1, torch.zeros(dims(4, 1), { dtype: "int64" })), err: ShapeError, op: "gather" },
  { what: "indexSelect with a 2-D index", run: () => z(3, 4).indexSelect(0, torch.zeros(dims(1, 2), { dtype: "int64" })), err: ShapeError, op: "indexSelect" },
  { what: "scatterAdd src smaller than index", run: () => z(3).scatterAdd(0, ints(0, 1), z(1)), err: ShapeError, op: "scatterAdd" },
  { what: "index: bool mask of the wrong size", run: () => z(4, 5).index(torch.ones(dims(3), { dtype: "bool" })), err: IndexError, op: "index" },
  { what: "index: advanced indices that don't broadcast", run: () => z(4, 5).index([0, 1], [0, 1, 2]), err: ShapeError, op: "index" },
  { what: "add_ with a non-broadcastable operand", run: () => z(2, 3).add_(z(4, 3)), err: ShapeError, op: "add_" },
  { what: "mul_ with an operand larger than the tensor", run: () => z(3).mul_(z(2, 3)), err: ShapeError, op: "mul_" },
  { what: "copy_ from a larger tensor", run: () => z(3).copy_(z(2, 3)), err: ShapeError, op: "copy_" },

  // --- dims and indices out of range ---
  { what: "sum dim 2 of [3,4]", run: () => z(3, 4).sum(2), err: ShapeError, op: "sum" },
  { what: "mean dims [0, 0]", run: () => z(3, 4).mean(dims(0, 0)), err: ShapeError, op: "mean" },
  { what: "max dim -3 of [3,4]", run: () => z(3, 4).max(-3 as number), err: ShapeError, op: "max" },
  { what: "argmax dim 2 of [3,4]", run: () => z(3, 4).argmax(2 as number), err: ShapeError, op: "argmax" },
  { what: "softmax dim 5", run: () => z(3, 4).softmax(5 as number), err: ShapeError, op: "softmax" },
  { what: "logSoftmax dim -3", run: () => z(3, 4).logSoftmax(-3 as number), err: ShapeError, op: "logSoftmax" },
  { what: "var dim 2", run: () => z(3, 4).var(2), err: ShapeError, op: "var" },
  { what: "transpose dim 3 of a 3-D tensor", run: () => z(2, 3, 4).transpose(0, 3 as number), err: ShapeError, op: "transpose" },
  { what: "unsqueeze dim 4 of a 3-D tensor", run: () => z(2, 3, 4).unsqueeze(4 as number), err: ShapeError, op: "unsqueeze" },
  { what: "squeeze dim 4", run: () => z(2, 3, 4).squeeze(4 as number), err: ShapeError, op: "squeeze" },
  { what: "cat dim 2 of 2-D tensors", run: () => torch.cat([z(2, 3), z(2, 3)], 2 as number), err: ShapeError, op: "cat" },
  { what: "stack dim 3", run: () => torch.stack([z(2, 3), z(2, 3)], 3 as number), err: ShapeError, op: "stack" },
  { what: "size(3) of a 3-D tensor", run: () => z(2, 3, 4).size(3 as number), err: ShapeError, op: "size" },
  { what: "size(0) of a 0-d tensor", run: () => z().size(0), err: ShapeError, op: "size" },
  { what: "select index 3 of a dim of 3", run: () => z(3, 4).select(0, 3), err: ShapeError, op: "select" },
  { what: "index x[5] of [2,3,4]", run: () => z(2, 3, 4).index(5 as number), err: IndexError, op: "index" },
  { what: "index x[:, -4] of [2,3,4]", run: () => z(2, 3, 4).index(":", -4 as number), err: IndexError, op: "index" },
  { what: "index with too many indices", run: () => z(2, 3).index(0, 0, 0 as number), err: ShapeError, op: "index" },
  { what: "index advanced [0, 9] of a dim of 4", run: () => z(4, 5).index([0, 9]), err: IndexError, op: "index" },
  { what: "index tensor 7 of a dim of 4", run: () => z(4, 5).index(ints(7)), err: IndexError, op: "index" },
  { what: "index with a non-slice string", run: () => z(4).index("1-3" as never), err: ValueError, op: "index" },
  { what: "index with two ellipses", run: () => z(4, 5).index("...", "..." as never), err: ShapeError, op: "index" },
  { what: "gather index 4 of a dim of 4", run: () => z(3, 4).gather(1, torch.tensor([[0, 4]])), err: IndexError, op: "gather" },
  { what: "gather negative index", run: () => z(3, 4).gather(1, torch.tensor([[0, -1]])), err: IndexError, op: "gather" },
  { what: "scatterAdd index 3 of a dim of 3", run: () => z(3).scatterAdd(0, ints(3), z(1)), err: IndexError, op: "scatterAdd" },
  { what: "indexSelect index 3 of a dim of 3", run: () => z(3, 4).indexSelect(0, ints(3)), err: IndexError, op: "indexSelect" },
  { what: "oneHot class 3 with 3 classes", run: () => torch.oneHot(ints(0, 3), 3), err: ValueError, op: "oneHot" },
  { what: "oneHot negative class", run: () => torch.oneHot(ints(0, -1)), err: ValueError, op: "oneHot" },
  { what: "len of a 0-d tensor", run: () => torch.len(z()), err: ValueError, op: "len" },

  // --- ragged nested arrays ---
  { what: "tensor([[1, 2], [3]])", run: () => torch.tensor([[1, 2], [3]] as never), err: ValueError, op: "tensor" },
  { what: "tensor([[1, 2], 3])", run: () => torch.tensor([[1, 2], 3] as never), err: ValueError, op: "tensor" },
  { what: "tensor([1, [2]])", run: () => torch.tensor([1, [2]] as never), err: ValueError, op: "tensor" },
  { what: "tensor([[[1]], [2]])", run: () => torch.tensor([[[1]], [2]] as never), err: ValueError, op: "tensor" },
  { what: "tensor of a string", run: () => torch.tensor(["1"] as never), err: ValueError, op: "tensor" },

  // --- NaN / Inf into integers ---
  { what: "to int64 of NaN", run: () => torch.tensor([1, NaN]).to("int64"), err: ValueError, op: "to" },
  { what: "to int32 of Inf", run: () => torch.tensor([Infinity], { dtype: "float64" }).to("int32"), err: ValueError, op: "to" },
  { what: "long() of -Inf", run: () => torch.tensor([-Infinity]).long(), err: ValueError, op: "to" },
  { what: "tensor([NaN], { dtype: int64 })", run: () => torch.tensor([NaN], { dtype: "int64" }), err: ValueError, op: "tensor" },
  { what: "tensor([Inf], { dtype: int32 })", run: () => torch.tensor([Infinity], { dtype: "int32" }), err: ValueError, op: "tensor" },
  { what: "full of NaN as int64", run: () => torch.full([2], NaN, { dtype: "int64" }), err: ValueError, op: "fill_" },
  { what: "fill_ of an int tensor with Inf", run: () => ints(1, 2).fill_(Infinity), err: ValueError, op: "fill_" },
  { what: "copy_ of NaN into an int tensor", run: () => ints(1, 2).copy_(torch.tensor([0.5, NaN])), err: ValueError, op: "copy_" },

  // --- dtypes PyTorch rejects ---
  { what: "matmul float32 @ float64", run: () => z(2, 2).matmul(torch.zeros(2, 2, { dtype: "float64" }) as never), err: DTypeError, op: "matmul" },
  { what: "matmul int64 @ float32", run: () => torch.tensor([[1, 2]]).matmul(z(2, 2) as never), err: DTypeError, op: "matmul" },
  { what: "mm of bool tensors", run: () => torch.ones(2, 2, { dtype: "bool" }).mm(torch.ones(2, 2, { dtype: "bool" })), err: DTypeError, op: "mm" },
  { what: "gather with an int32 index", run: () => z(3, 4).gather(1, torch.zeros(3, 1, { dtype: "int32" }) as never), err: DTypeError, op: "gather" },
  { what: "indexSelect with a float index", run: () => z(3, 4).indexSelect(0, z(1) as never), err: DTypeError, op: "indexSelect" },
  { what: "index with an int32 tensor", run: () => z(4).index(torch.tensor([1], { dtype: "int32" })), err: DTypeError, op: "index" },
  { what: "index with a float tensor", run: () => z(4).index(torch.tensor([1.5])), err: DTypeError, op: "index" },
  { what: "where with an int64 condition", run: () => torch.where(ints(1, 0) as never, z(2), z(2)), err: DTypeError, op: "where" },
  { what: "where with a float condition", run: () => torch.where(torch.tensor([1.5]) as never, z(1), z(1)), err: DTypeError, op: "where" },
  { what: "sub of bool tensors", run: () => torch.tensor([true]).sub(torch.tensor([false])), err: DTypeError, op: "sub" },
  { what: "sub of a bool tensor and an int", run: () => torch.tensor([true]).sub(1), err: DTypeError, op: "sub" },
  { what: "sub of an int tensor and a bool", run: () => ints(1).sub(true), err: DTypeError, op: "sub" },
  { what: "sub with alpha of a bool tensor", run: () => z(1).sub(torch.tensor([true]), { alpha: 2 }), err: DTypeError, op: "sub" },
  { what: "add of int64 with a fractional alpha", run: () => ints(1).add(ints(2), { alpha: 0.5 }), err: DTypeError, op: "add" },
  { what: "neg of bool", run: () => torch.tensor([true]).neg(), err: DTypeError, op: "neg" },
  { what: "pow of int64 with a negative int exponent", run: () => ints(2).pow(-1), err: DTypeError, op: "pow" },
  { what: "div floor of int64 by 0", run: () => ints(1).div(0, { roundingMode: "floor" }), err: DTypeError, op: "div" },
  { what: "div with a bad rounding mode", run: () => z(1).div(2, { roundingMode: "round" as never }), err: ValueError, op: "div" },
  { what: "mean of int64", run: () => ints(1, 2).mean(), err: DTypeError, op: "mean" },
  { what: "std of int64", run: () => ints(1, 2).std(), err: DTypeError, op: "std" },
  { what: "softmax of int64", run: () => ints(1, 2).softmax(0), err: DTypeError, op: "softmax" },
  { what: "argmax of bool", run: () => torch.tensor([true]).argmax(), err: DTypeError, op: "argmax" },
  { what: "oneHot of int32", run: () => torch.oneHot(torch.tensor([1], { dtype: "int32" }) as never), err: DTypeError, op: "oneHot" },
  { what: "add_ of a float into an int tensor", run: () => ints(1).add_(1.5), err: DTypeError, op: "add_" },
  { what: "div_ of an int tensor", run: () => ints(4).div_(2), err: DTypeError, op: "div_" },
  { what: "normal_ of an int tensor", run: () => ints(4).normal_(), err: DTypeError, op: "normal_" },
  { what: "requiresGrad of an int tensor", run: () => torch.tensor([1], { requiresGrad: true }), err: DTypeError, op: "tensor" },
  { what: "requiresGrad_ of an int tensor", run: () => ints(1).requiresGrad_(), err: DTypeError, op: "requiresGrad_" },
  { what: "rand as int64", run: () => torch.rand(2, { dtype: "int64" }), err: DTypeError, op: "rand" },

  // --- reading out, autograd ---
  { what: "item of 3 elements", run: () => z(3).item(), err: ValueError, op: "item" },
  { what: "item of no elements", run: () => z(0).item(), err: ValueError, op: "item" },
  { what: "backward of a non-scalar without gradient", run: () => torch.ones(2, { requiresGrad: true }).mul(2).backward(), err: ValueError, op: "backward" },
  { what: "backward with a gradient of another shape", run: () => torch.ones(2, { requiresGrad: true }).mul(2).backward(z(3)), err: ShapeError, op: "backward" },
  { what: "backward of a tensor that doesn't require grad", run: () => z(1).sum().backward(), err: ValueError, op: "backward" },
  {
    what: "a second backward without retainGraph",
    run: () => {
      const y = torch.ones(2, { requiresGrad: true }).mul(2).sum();
      y.backward();
      y.backward();
    },
    err: ValueError,
    op: "backward",
  },
  { what: "add_ on a leaf that requires grad", run: () => torch.ones(2, { requiresGrad: true }).add_(1), err: ValueError, op: "add_" },
  { what: "in-place on a tensor in the graph", run: () => torch.ones(2, { requiresGrad: true }).mul(2).mul_(2), err: ValueError, op: "mul_" },
  { what: "max of an empty tensor", run: () => z(0).max(), err: ValueError, op: "max" },
  { what: "argmin of an empty tensor", run: () => z(0, 2).argmin(), err: ValueError, op: "argmin" },

  // --- sizes, dtypes and arguments of creation ---
  { what: "zeros(-1, 2)", run: () => torch.zeros(-1, 2), err: ValueError, op: "zeros" },
  { what: "zeros([2, -3])", run: () => torch.zeros([2, -3]), err: ValueError, op: "zeros" },
  { what: "ones(2.5)", run: () => torch.ones(2.5), err: ValueError, op: "ones" },
  { what: "randn(-1)", run: () => torch.randn(-1), err: ValueError, op: "randn" },
  { what: "full([-1], 1)", run: () => torch.full([-1], 1), err: ValueError, op: "full" },
  { what: "eye(-1)", run: () => torch.eye(-1), err: ValueError, op: "eye" },
  { what: "eye(2, -1)", run: () => torch.eye(2, -1), err: ValueError, op: "eye" },
  { what: "randint(3, [-1])", run: () => torch.randint(3, [-1]), err: ValueError, op: "randint" },
  { what: "randint with low >= high", run: () => torch.randint(5, 5, [2]), err: ValueError, op: "randint" },
  { what: "randperm(-1)", run: () => torch.randperm(-1), err: ValueError, op: "randperm" },
  { what: "linspace with negative steps", run: () => torch.linspace(0, 1, -1), err: ValueError, op: "linspace" },
  { what: "zeros with dtype float16", run: () => torch.zeros(2, { dtype: "float16" as never }), err: ValueError, op: "zeros" },
  { what: "tensor with dtype int8", run: () => torch.tensor([1], { dtype: "int8" as never }), err: ValueError, op: "tensor" },
  { what: "arange with dtype uint8", run: () => torch.arange(3, { dtype: "uint8" as never }), err: ValueError, op: "arange" },
  { what: "to float16", run: () => z(1).to("float16" as never), err: ValueError, op: "to" },
  { what: "type torch.HalfTensor", run: () => z(1).type("torch.HalfTensor" as never), err: ValueError, op: "type" },
  { what: "arange step 0", run: () => torch.arange(0, 1, 0), err: ValueError, op: "arange" },
  { what: "arange step of the wrong sign", run: () => torch.arange(0, 5, -1), err: ValueError, op: "arange" },
  { what: "arange(-5)", run: () => torch.arange(-5), err: ValueError, op: "arange" },
  { what: "arange to Infinity", run: () => torch.arange(0, Infinity), err: ValueError, op: "arange" },
  { what: "clamp without bounds", run: () => z(1).clamp(), err: ValueError, op: "clamp" },
  { what: "uniform_ with from > to", run: () => z(2).uniform_(1, 0), err: ValueError, op: "uniform_" },
  { what: "normal_ with std < 0", run: () => z(2).normal_(0, -1), err: ValueError, op: "normal_" },
  { what: "slice step 0", run: () => z(4).index("::0"), err: ValueError, op: "index" },

  // --- devices ---
  { what: "to webgpu in this build", run: () => z(1).to("webgpu" as never), err: DeviceError, op: "to" },
  { what: "device webgpu at creation", run: () => torch.zeros(1, { device: "webgpu" as never }), err: ValueError, op: "zeros" },
];

describe("bad inputs are rejected with op: expectation, got actual", () => {
  it.each(CATALOGUE.map((b) => [b.what, b] as const))("%s", (_what, b) => {
    let err: unknown;
    try {
      b.run();
    } catch (e) {
      err = e;
    }
    expect(err, "did not throw").toBeDefined();
    expect(err, String(err)).toBeInstanceOf(b.err);
    const msg = (err as Error).message;
    expect(msg.split(":")[0], msg).toContain(b.op);
    expect(msg, msg).toMatch(/^[^:]+: \S.*, got \S/s);
  });
});

// ---------------------------------------------------------------------------------------------
// nothing half-modified
// ---------------------------------------------------------------------------------------------

interface InPlace {
  what: string;
  make: () => Tensor<number[], "float32" | "int64">;
  run: (x: Tensor<number[], "float32" | "int64">) => unknown;
}

const f = () => torch.tensor([[1.5, -2.5, 3.5], [4.5, 5.5, -6.5]]) as Tensor<number[], "float32">;
const i = () => torch.tensor([[1, 2, 3], [4, 5, 6]]) as Tensor<number[], "int64">;

const IN_PLACE: InPlace[] = [
  { what: "add_ with a non-broadcastable operand", make: f, run: (x) => x.add_(z(4, 3)) },
  { what: "sub_ with alpha on a non-broadcastable operand", make: f, run: (x) => x.sub_(z(2, 2), { alpha: 2 }) },
  { what: "mul_ with an operand larger than x", make: f, run: (x) => x.mul_(z(4, 2, 3)) },
  { what: "div_ of an int tensor", make: i, run: (x) => x.div_(2) },
  { what: "add_ of a float scalar to an int tensor", make: i, run: (x) => x.add_(0.5) },
  { what: "add_ of an int tensor with a fractional alpha", make: i, run: (x) => x.add_(torch.ones(3, { dtype: "int64" }), { alpha: 0.5 }) },
  { what: "copy_ with NaN into an int tensor (NaN last)", make: i, run: (x) => x.copy_(torch.tensor([7, 8, NaN])) },
  { what: "copy_ from a non-broadcastable tensor", make: f, run: (x) => x.copy_(z(3, 3)) },
  { what: "fill_ of an int tensor with NaN", make: i, run: (x) => x.fill_(NaN) },
  { what: "clamp_ without bounds", make: f, run: (x) => x.clamp_() },
  { what: "normal_ with std < 0", make: f, run: (x) => x.normal_(0, -1) },
  { what: "uniform_ with from > to", make: f, run: (x) => x.uniform_(2, 1) },
  { what: "uniform_ of an int tensor", make: i, run: (x) => x.uniform_() },
  { what: "add_ on a leaf that requires grad", make: () => f().requiresGrad_(), run: (x) => x.add_(1) },
  { what: "add_ through a view with a non-broadcastable operand", make: f, run: (x) => x.index(":", "1:").add_(z(3)) },
];

describe("a failed in-place op leaves the tensor unchanged", () => {
  it.each(IN_PLACE.map((c) => [c.what, c] as const))("%s", (_what, c) => {
    const x = c.make();
    const before = Array.from(x.data() as ArrayLike<number>);
    const shape = [...x.shape];
    expect(() => c.run(x)).toThrow();
    expect(x.shape).toEqual(shape);
    expect(Array.from(x.data() as ArrayLike<number>)).toEqual(before);
  });
});
