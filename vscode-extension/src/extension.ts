// Scopeline in VS Code: the engine (`scopeline serve`) as the language server, and the
// `scopeline` debug type served by the debug adapter that runs beside it.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";
import { adapterDescriptor, DebugAdapterWhere } from "./adapter";

const WHY_SCHEME = "scopeline-why";
let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const python = vscode.workspace.getConfiguration("scopeline").get<string>("python", "python3");
  const why = new WhyDocuments();
  let where: DebugAdapterWhere | undefined;

  // The debug type works even if the language server cannot start: the adapter then runs
  // on its own (`python -m scopeline.adapter`).
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(WHY_SCHEME, why),
    vscode.debug.registerDebugAdapterDescriptorFactory("scopeline", {
      createDebugAdapterDescriptor: () => {
        const d = adapterDescriptor(where, python);
        return d.kind === "server"
          ? new vscode.DebugAdapterServer(d.port, d.host)
          : new vscode.DebugAdapterExecutable(d.command, d.args);
      },
    }),
    vscode.debug.registerDebugConfigurationProvider("scopeline", {
      resolveDebugConfiguration: (_folder, config) => {
        if (!config.type && !config.request) {
          // F5 with no launch.json: trace the current file
          const editor = vscode.window.activeTextEditor;
          if (editor && editor.document.languageId === "python") {
            return { type: "scopeline", request: "launch", name: "Scopeline: current file",
                     program: editor.document.fileName };
          }
        }
        return config;
      },
    }),
  );

  const serverOptions: ServerOptions = {
    command: python,
    args: ["-m", "scopeline.engine.cli.main", "serve"],
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    outputChannelName: "Scopeline",
    middleware: {
      // The "why" lens runs scopeline.explainMode on the server; show its markdown.
      executeCommand: async (command, args, next) => {
        const result = await next(command, args);
        if (command === "scopeline.explainMode" && result && typeof result.markdown === "string") {
          await why.show(result.markdown);
        }
        return result;
      },
    },
  };
  client = new LanguageClient("scopeline", "Scopeline", serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    void vscode.window.showErrorMessage(
      `Scopeline: the engine did not start with "${python}" (${String(err)}). ` +
      "Set scopeline.python to a Python that has scopeline installed.");
    return;
  }
  try {
    where = await client.sendRequest<DebugAdapterWhere>("scopeline/debugAdapter", {});
  } catch {
    where = undefined; // an older engine: the adapter runs on its own
  }
  client.onDidChangeState(async () => {
    // a restarted server listens on a new port: ask again
    try {
      where = await client?.sendRequest<DebugAdapterWhere>("scopeline/debugAdapter", {});
    } catch {
      where = undefined;
    }
  });
}

/** The "why" reasoning as read-only markdown documents (no unsaved editor left behind). */
class WhyDocuments implements vscode.TextDocumentContentProvider {
  private texts = new Map<string, string>();
  private count = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? "";
  }

  async show(markdown: string): Promise<void> {
    const uri = vscode.Uri.parse(`${WHY_SCHEME}:/why-${++this.count}.md`);
    this.texts.set(uri.toString(), markdown);
    await vscode.commands.executeCommand("markdown.showPreview", uri);
  }
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
  }
}
