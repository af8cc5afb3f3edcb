// A thin client: VS Code starts `cnnlint lsp` for Python files and shows what it sends (diagnostics, hovers,
// inlay hints, quick fixes). All the analysis is in the server.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("cnnlint").get("path", ["cnnlint"]);
  const server = { command: command[0], args: [...command.slice(1), "lsp"] };
  client = new LanguageClient(
    "cnnlint",
    "cnnlint",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "python" }, { scheme: "untitled", language: "python" }] }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
