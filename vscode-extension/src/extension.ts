// Scopeline in VS Code: the engine (`scopeline serve`) as the language server, and the
// `scopeline` debug type served by the debug adapter that runs beside it.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";
import { adapterDescriptor, DebugAdapterWhere } from "./adapter";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const python = vscode.workspace.getConfiguration("scopeline").get<string>("python", "python3");
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
          await showMarkdown(result.markdown);
        }
        return result;
      },
    },
  };
  client = new LanguageClient("scopeline", "Scopeline", serverOptions, clientOptions);
  await client.start();

  let where: DebugAdapterWhere | undefined;
  try {
    where = await client.sendRequest<DebugAdapterWhere>("scopeline/debugAdapter", {});
  } catch {
    where = undefined; // an older engine: the adapter is started on its own below
  }
  context.subscriptions.push(
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
}

async function showMarkdown(markdown: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content: markdown, language: "markdown" });
  await vscode.commands.executeCommand("markdown.showPreview", doc.uri);
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
  }
}
