// Turns a TF.js model shipped as JavaScript bundles (nsfwjs's dist/models/<name>/*.min.js) back
// into the standard files: model.json plus one binary file per weight shard.
//
//   node unpack_minjs.js MODEL_MIN_JS OUT_DIR
//
// model.min.js is a UMD bundle whose module exports {modelTopology, weightsManifest}; each shard
// `<path>` in the manifest sits beside it as `<path>.min.js`, a bundle exporting the shard's bytes
// as a base64 string. The bundles run in a bare vm context (no require, no process), so they can
// only compute their export. They are loaded this way rather than with require() because whether
// Node treats a .js file as CommonJS depends on the nearest package.json, which an extraction of
// a few files may not carry.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

function loadBundle(file) {
  const module = {exports: {}};
  const context = vm.createContext({module, exports: module.exports});
  vm.runInContext(fs.readFileSync(file, 'utf8'), context, {filename: file, timeout: 30000});
  return module.exports;
}

function main(argv) {
  if (argv.length !== 2) {
    console.error('usage: node unpack_minjs.js MODEL_MIN_JS OUT_DIR');
    return 2;
  }
  const [modelFile, outDir] = argv;
  const model = loadBundle(modelFile);
  if (!model || !model.modelTopology || !Array.isArray(model.weightsManifest)) {
    throw new Error(`${modelFile} does not export {modelTopology, weightsManifest}`);
  }
  fs.mkdirSync(outDir, {recursive: true});
  let bytes = 0;
  for (const group of model.weightsManifest) {
    for (const shard of group.paths) {
      if (shard.includes('/') || shard.startsWith('.')) {
        throw new Error(`${modelFile}: unexpected shard path ${shard}`);
      }
      const encoded = loadBundle(path.join(path.dirname(modelFile), `${shard}.min.js`));
      if (typeof encoded !== 'string') {
        throw new Error(`${shard}.min.js does not export a base64 string`);
      }
      const data = Buffer.from(encoded, 'base64');
      fs.writeFileSync(path.join(outDir, shard), data);
      bytes += data.length;
    }
  }
  fs.writeFileSync(path.join(outDir, 'model.json'), JSON.stringify(model));
  console.log(`unpack_minjs: ${modelFile} -> ${outDir} (${bytes} weight bytes)`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`unpack_minjs: ${e.message}`);
  process.exitCode = 1;
}
