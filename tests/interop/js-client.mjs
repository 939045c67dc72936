// Drives the official @huggingface/hub client against an `adapters-hub serve` registry.
// Called by tests/Adapters.Hub.Cli.Tests/Serve/JsClientInteropTests.cs; prints one JSON object on stdout.
//
//   node js-client.mjs push     <endpoint> <token> <namespace/name> <folder>
//     createRepo, uploadFiles (every file of <folder>, one commit), listFiles, modelInfo, then
//     downloadFile of each file, compared byte for byte with the local copy.
//   node js-client.mjs download <endpoint> <token> <namespace/name> <out-folder> <path>...
//     downloadFile of each path into <out-folder>.
import { createRepo, uploadFiles, listFiles, modelInfo, downloadFile } from "@huggingface/hub";
import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { join, dirname } from "node:path";
import { createHash } from "node:crypto";

const [command, hubUrl, accessToken, name, folder, ...paths] = process.argv.slice(2);
if (!command || !hubUrl || !accessToken || !name || !folder) {
  console.error("usage: node js-client.mjs push|download <endpoint> <token> <namespace/name> <folder> [paths...]");
  process.exit(2);
}
const repo = { type: "model", name };
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

async function filesUnder(root, prefix = "") {
  const found = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await filesUnder(root, relative)));
    else found.push(relative);
  }
  return found.sort();
}

async function download(path) {
  const blob = await downloadFile({ repo, path, hubUrl, accessToken });
  if (!blob) throw new Error(`downloadFile(${path}) answered null: the server said EntryNotFound`);
  return Buffer.from(await blob.arrayBuffer());
}

async function push() {
  const created = await createRepo({ repo, accessToken, hubUrl });
  const local = await filesUnder(folder);
  const files = [];
  for (const path of local) files.push({ path, content: new Blob([await readFile(join(folder, path))]) });
  // No useXet:false: the client offers "xet" and must fall back to what the server answers.
  const result = await uploadFiles({ repo, accessToken, hubUrl, files, commitTitle: "Upload from @huggingface/hub" });

  const listed = [];
  for await (const entry of listFiles({ repo, accessToken, hubUrl, recursive: true })) listed.push(entry);
  const info = await modelInfo({ name, accessToken, hubUrl, additionalFields: ["sha", "siblings"] });

  const downloads = [];
  for (const path of local) {
    const expected = await readFile(join(folder, path));
    const actual = await download(path);
    if (!actual.equals(expected)) throw new Error(`downloadFile(${path}) returned ${actual.length} bytes that differ from the ${expected.length} uploaded`);
    downloads.push({ path, size: actual.length, sha256: sha256(actual) });
  }
  return { repoUrl: created.repoUrl, commit: result?.commit?.oid, listed, info, downloads };
}

async function downloadAll() {
  const written = [];
  for (const path of paths) {
    const bytes = await download(path);
    const target = join(folder, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
    written.push({ path, size: bytes.length, sha256: sha256(bytes) });
  }
  return { downloads: written };
}

try {
  const output = command === "push" ? await push() : command === "download" ? await downloadAll() : null;
  if (!output) throw new Error(`unknown command '${command}'`);
  process.stdout.write(JSON.stringify(output) + "\n");
} catch (error) {
  console.error(`${error?.name ?? "Error"}: ${error?.message ?? error}${error?.statusCode ? ` (HTTP ${error.statusCode} ${error.url})` : ""}`);
  process.exit(1);
}
