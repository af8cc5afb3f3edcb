"""Real code: the Keras applications shipped in the keras wheel (keras/src/applications), read by cnnlint from
the installed package, against the same models built by Keras: no error, every layer of the functional graph
followed, and every layer's name, output shape and parameter count equal to Keras'.

cnnlint follows each constructor with its default arguments, weights="imagenet" included (EfficientNet adds a
Rescaling layer for those weights), so Keras builds them with the same defaults; only the download of the
weights and their loading are skipped: they do not change the graph."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")   # part of the test extras: in CI this always imports

from cnnlint.lint import lint_text  # noqa: E402
from cnnlint.positions import Positions  # noqa: E402
from cnnlint.summary import summarize  # noqa: E402

SOURCES = Path(keras.__file__).parent / "src" / "applications"

# (source file, the name Keras gives the model, the public constructor): the smaller member of each family, so
# that building them all stays within seconds on a CPU
APPLICATIONS = [
    ("vgg16.py", "vgg16", "VGG16"),
    ("resnet.py", "resnet50", "ResNet50"),
    ("densenet.py", "densenet121", "DenseNet121"),
    ("inception_v3.py", "inception_v3", "InceptionV3"),
    ("xception.py", "xception", "Xception"),
    ("mobilenet.py", "mobilenet_1.00_224", "MobileNet"),
    ("mobilenet_v2.py", "mobilenetv2_1.00_224", "MobileNetV2"),
    ("mobilenet_v3.py", "MobileNetV3Small", "MobileNetV3Small"),
    ("efficientnet.py", "efficientnetb0", "EfficientNetB0"),
    ("efficientnet_v2.py", "efficientnetv2-b0", "EfficientNetV2B0"),
    ("convnext.py", "convnext_tiny", "ConvNeXtTiny"),
    ("inception_resnet_v2.py", "inception_resnet_v2", "InceptionResNetV2"),
]


@pytest.fixture(scope="module")
def analysed():
    cache = {}

    def get(filename):
        if filename not in cache:
            path = SOURCES / filename
            result = lint_text(path.read_text(), path, keep_analysis=True)
            cache[filename] = (result, {s.name: s for s in summarize(result, Positions(result.module))})
        return cache[filename]
    return get


def keras_layers(model):
    rows = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shape = tuple("N" if d is None and i == 0 else d for i, d in enumerate(layer.output.shape))
        rows[layer.name] = (shape, layer.count_params())
    return rows


def keras_dims(shape):
    """A size cnnlint knows only as an expression of the open input sizes ("(H + 1)//2") is one Keras leaves
    open (None); the batch stays "N", and a size cnnlint does not know ("?") stays unknown, equal to nothing."""
    if shape is None:
        return None
    return tuple(d if isinstance(d, int) or d == "?" or (i == 0 and d == "N") else None for i, d in enumerate(shape))


@pytest.mark.parametrize("filename,name,constructor", APPLICATIONS, ids=[a[2] for a in APPLICATIONS])
def test_application_agrees_with_keras(analysed, filename, name, constructor, monkeypatch):
    from keras.src.utils import file_utils
    monkeypatch.setattr(file_utils, "get_file", lambda *args, **kwargs: "not-downloaded.weights.h5")
    monkeypatch.setattr(keras.Model, "load_weights", lambda self, *args, **kwargs: None)
    result, summaries = analysed(filename)
    assert [d for d in result.diagnostics if d.severity == "error"] == []
    assert name in summaries, f"cnnlint did not follow {name}: {sorted(summaries)}"
    keras.backend.clear_session()
    model = getattr(keras.applications, constructor)()
    ours = {r.name: (keras_dims(r.output_shape), r.params) for r in summaries[name].rows if r.layer}
    theirs = keras_layers(model)
    assert ours == theirs
    assert summaries[name].total_params == model.count_params()
