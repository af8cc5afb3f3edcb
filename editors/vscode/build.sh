#!/usr/bin/env bash
# Package the VS Code extension as a .vsix: vscode-languageclient (bundled) and @vscode/vsce (the packager) come
# from the npm registry, at the versions package-lock.json pins. Needs node >= 20 and npm.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
version=$(node -p "require('./package.json').version")
npx --no-install vsce package --skip-license --allow-missing-repository --out "cnnlint-$version.vsix"
echo "editors/vscode/cnnlint-$version.vsix"
