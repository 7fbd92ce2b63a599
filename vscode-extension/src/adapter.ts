// Where the `scopeline` debug adapter is: the listener beside the language server (one engine
// for both), or, if the engine did not announce one, `python -m scopeline.adapter` on stdio.
// Kept free of the vscode module so it can be tested under plain Node.

export interface DebugAdapterWhere {
  host?: string;
  port?: number | null;
}

export type Descriptor =
  | { kind: "server"; host: string; port: number }
  | { kind: "executable"; command: string; args: string[] };

export function adapterDescriptor(where: DebugAdapterWhere | undefined, python: string): Descriptor {
  if (where && typeof where.port === "number" && where.port > 0) {
    return { kind: "server", host: where.host || "127.0.0.1", port: where.port };
  }
  return { kind: "executable", command: python, args: ["-m", "scopeline.adapter"] };
}
