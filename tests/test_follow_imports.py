"""Following imports: into the installed packages of the environment the code runs in (`--python`), with the
result cache keyed on every module a lint read, never importing anything."""

import json
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from cnnlint.lint import Selection, lint_file

# A package written the way torchvision writes its models: a package __init__ that star-imports its model modules,
# a builder with keyword-only weights and **kwargs, a WeightsEnum-style verify() in another module.
PACKAGE = {
    "visionpkg/__init__.py": "from visionpkg import models\n",
    "visionpkg/models/__init__.py": "from .resnet import *\n",
    "visionpkg/models/_api.py": """
        class WeightsEnum:
            @classmethod
            def verify(cls, obj):
                if obj is not None and not isinstance(obj, cls):
                    raise TypeError("not weights")
                return obj
        """,
    "visionpkg/models/resnet.py": """
        import torch.nn as nn
        from ._api import WeightsEnum

        __all__ = ["ResNet", "resnet18"]


        class BasicBlock(nn.Module):
            def __init__(self, inplanes, planes, stride=1, norm_layer=None):
                super().__init__()
                if norm_layer is None:
                    norm_layer = nn.BatchNorm2d
                self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
                self.bn1 = norm_layer(planes)
                self.relu = nn.ReLU(inplace=True)
                self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
                self.bn2 = norm_layer(planes)
                self.downsample = None
                if stride != 1 or inplanes != planes:
                    self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                                    norm_layer(planes))

            def forward(self, x):
                identity = x if self.downsample is None else self.downsample(x)
                out = self.relu(self.bn1(self.conv1(x)))
                return self.relu(self.bn2(self.conv2(out)) + identity)


        class ResNet(nn.Module):
            def __init__(self, widths=(64, 128, 256, 512), num_classes=1000):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
                self.bn1 = nn.BatchNorm2d(64)
                self.relu = nn.ReLU(inplace=True)
                layers, inplanes = [], 64
                for i, width in enumerate(widths):
                    layers.append(BasicBlock(inplanes, width, 1 if i == 0 else 2))
                    inplanes = width
                self.layers = nn.Sequential(*layers)
                self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
                self.fc = nn.Linear(512, num_classes)

            def forward(self, x):
                x = self.layers(self.relu(self.bn1(self.conv1(x))))
                return self.fc(self.avgpool(x).flatten(1))


        class ResNet18_Weights(WeightsEnum):
            pass


        def resnet18(*, weights=None, progress=True, **kwargs):
            weights = ResNet18_Weights.verify(weights)
            return ResNet(**kwargs)
        """,
}

USER = """
import torch
import torch.nn as nn
import visionpkg

model = visionpkg.models.resnet18()
model.fc = nn.Linear(2048, 10)
logits = model(torch.randn(2, 3, 64, 64))
"""


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    """A virtual environment (no pip: nothing is installed from anywhere) with the package in its site-packages."""
    root = tmp_path_factory.mktemp("env")
    venv.create(root / "venv", with_pip=False)
    python = root / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    for name, text in PACKAGE.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(textwrap.dedent(text))
    return python, site


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "finetune.py"
    path.write_text(USER)
    return path


def test_an_installed_package_is_followed_in_the_target_environment(environment, user_file):
    python, _ = environment
    found = lint_file(user_file, Selection(python=str(python))).diagnostics
    assert [(d.line, d.code) for d in found] == [(7, "CNN101")]
    assert "(2, 512)" in found[0].message          # what resnet18's avgpool hands the new head


def test_without_the_package_in_the_environment_nothing_is_known(user_file):
    assert lint_file(user_file, Selection()).diagnostics == []


def test_not_following_imports_leaves_the_package_unknown(environment, user_file):
    python, _ = environment
    assert lint_file(user_file, Selection(python=str(python), follow_imports=False)).diagnostics == []


def test_cli_python_option_and_config_key(environment, user_file):
    python, _ = environment
    run = [sys.executable, "-m", "cnnlint", str(user_file), "--no-cache", "--output-format", "json"]
    assert subprocess.run(run, capture_output=True, text=True).returncode == 0
    with_python = subprocess.run(run + ["--python", str(python)], capture_output=True, text=True)
    assert with_python.returncode == 1 and [d["code"] for d in json.loads(with_python.stdout)] == ["CNN101"]
    (user_file.parent / "pyproject.toml").write_text(f'[tool.cnnlint]\npython = "{python}"\n')
    from_config = subprocess.run(run, capture_output=True, text=True)
    assert from_config.returncode == 1, from_config.stdout + from_config.stderr


def test_an_edit_to_an_imported_module_re_checks_its_users(tmp_path):
    """The cache key of net.py covers blocks.py: a cached result is used only while every module it read is
    unchanged, and a module it looked for in vain is still missing."""
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("")
    blocks = tmp_path / "models" / "blocks.py"
    blocks.write_text("import torch.nn as nn\n\nWIDTH = 32\n")
    net = tmp_path / "net.py"
    net.write_text(textwrap.dedent("""
        import torch
        import torch.nn as nn
        from models.blocks import WIDTH
        from models.extra import EXTRA

        model = nn.Sequential(nn.Linear(8, WIDTH), nn.ReLU(), nn.Linear(32, 2))
        model(torch.randn(4, 8))
        """))
    run = [sys.executable, "-m", "cnnlint", str(net), "--output-format", "json"]

    def codes():
        out = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path)
        return [d["code"] for d in json.loads(out.stdout)]

    assert codes() == []
    assert codes() == []                                   # from the cache
    blocks.write_text("import torch.nn as nn\n\nWIDTH = 64\n")
    assert codes() == ["CNN101"]                           # blocks.py changed: net.py is linted again
    blocks.write_text("import torch.nn as nn\n\nWIDTH = 32\n")
    assert codes() == []
    (tmp_path / "models" / "extra.py").write_text("WIDTH = 64\n")
    net.write_text(net.read_text().replace("from models.blocks import WIDTH", "from models.extra import WIDTH"))
    assert codes() == ["CNN101"]


def test_a_missing_module_that_appears_re_checks(tmp_path):
    net = tmp_path / "net.py"
    net.write_text(textwrap.dedent("""
        import torch
        import torch.nn as nn
        from helpers import WIDTH

        model = nn.Sequential(nn.Linear(8, WIDTH), nn.ReLU(), nn.Linear(32, 2))
        model(torch.randn(4, 8))
        """))
    run = [sys.executable, "-m", "cnnlint", str(net), "--output-format", "json"]

    def codes():
        out = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path)
        return [d["code"] for d in json.loads(out.stdout)]

    assert codes() == []                                   # helpers.py does not exist: WIDTH is unknown
    (tmp_path / "helpers.py").write_text("WIDTH = 16\n")
    assert codes() == ["CNN101"]                           # it exists now: the cached silence is not reused
