# -*- Python -*-
# lit configuration for kiln's regression tests.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "KILN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shared", config.kiln_shared_dir))
config.substitutions.append(("%models", os.path.join(config.kiln_shared_dir, "models", "hf-tiny")))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%kiln_src", config.kiln_src_root))
config.substitutions.append(("%kiln_bin", config.kiln_tools_dir))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP", "PYTHONPATH"])
llvm_config.use_default_substitutions()

tool_dirs = [config.kiln_tools_dir, config.llvm_tools_dir]
tools = [
    ToolSubst("kiln-opt", unresolved="ignore"),
    ToolSubst("kiln-import", unresolved="ignore"),
    ToolSubst("kiln-run", unresolved="ignore"),
    ToolSubst("kiln-compile", unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
llvm_config.with_environment("PATH", config.kiln_tools_dir, append_path=True)
# FileCheck, not, count and split-file may start a RUN line: put them on PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

if os.path.isdir(os.path.join(config.kiln_shared_dir, "models", "hf-tiny")):
    config.available_features.add("fixtures")
import shutil
if shutil.which("nvcc") or os.path.exists("/usr/local/cuda/bin/nvcc"):
    config.available_features.add("nvcc")

# Tests that build ONNX models or oracles need a python with the onnx package.
import subprocess
if config.python_executable and subprocess.call(
        [config.python_executable, "-c", "import onnx, numpy"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("onnx")

# onnxruntime: an oracle on the GPU machine (utils/make-ort-oracle.py), not
# a dependency of kiln; CI does not install it, so its tests run where it is.
if config.python_executable and subprocess.call(
        [config.python_executable, "-c", "import onnxruntime"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("onnxruntime")

# A machine with an NVIDIA GPU: tests that expect "no CUDA device" are
# UNSUPPORTED there.
if os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl"):
    config.available_features.add("cuda-device")
