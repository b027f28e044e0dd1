// The part of the WebAssembly JS API that kernels.ts uses. TypeScript declares it only in its DOM
// library, and @types/node 20 not at all, although Node has had it since v8.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: Record<string, unknown>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
}
