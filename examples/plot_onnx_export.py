"""
Exporting a pipeline to ONNX
============================

A fitted ``MLPClassifier`` or ``MLPRegressor`` can be exported to `ONNX <https://onnx.ai>`_
with `skl2onnx <https://onnx.ai/sklearn-onnx/>`_, alone or inside a scikit-learn pipeline,
and then run without Python by ``onnxruntime`` or any other ONNX runtime. Importing
``sknnloss.onnx`` registers the converters; this needs the optional dependencies
(``pip install "sknnloss[onnx]"``).

This example fits a pipeline on the Palmer penguins table, which mixes numeric and
categorical columns, exports it and checks that onnxruntime reproduces ``predict`` and
``predict_proba``.
"""

# %%
# A pipeline on a mixed-type table
# --------------------------------
# The species of a penguin from its island, sex and body measurements. The numeric columns
# are standardised, the categorical ones one-hot encoded, and the network uses GELU, the
# exact erf form, in its two hidden layers: the export writes it exactly too.
import numpy as np
import onnxruntime as ort
from palmerpenguins import load_penguins
from skl2onnx import to_onnx
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sknnloss.onnx  # noqa: F401  (registers the converters with skl2onnx)
from sknnloss import MLPClassifier

numeric = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
categorical = ["island", "sex"]
penguins = load_penguins().dropna()
X = penguins[numeric + categorical]
y = penguins["species"]
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipeline = Pipeline([
    ("preprocess", ColumnTransformer([
        ("numeric", StandardScaler(), numeric),
        ("categorical", OneHotEncoder(sparse_output=False, handle_unknown="ignore"),
         categorical),
    ])),
    ("mlp", MLPClassifier(hidden_layer_sizes=(16, 8), activation="gelu", solver="lbfgs",
                          max_iter=300, random_state=0)),
])
pipeline.fit(X_train, y_train)
print(f"held-out accuracy: {pipeline.score(X_test, y_test):.3f}")

# %%
# Export
# ------
# ``to_onnx`` reads the names and types of the inputs from a sample of the DataFrame: one
# ONNX input per column, float64 for the numeric columns, strings for the categorical ones.
# With float64 inputs the whole graph computes in float64. The classifier has two outputs,
# ``label`` (``predict``) and ``probabilities`` (``predict_proba``); ``zipmap=False``
# keeps the probabilities a plain matrix (ONNX's ``ZipMap``, which skl2onnx adds by default
# to turn them into one dictionary per sample, accepts float32 only).
onx = to_onnx(pipeline, X_train[:1], options={"zipmap": False})
print("inputs: ", [(i.name, i.type.tensor_type.elem_type) for i in onx.graph.input])
print("outputs:", [o.name for o in onx.graph.output])
print(f"{len(onx.graph.node)} nodes, {len(onx.SerializeToString()) / 1024:.1f} kB")

# %%
# Check with onnxruntime
# ----------------------
# onnxruntime takes one array of shape (n_samples, 1) per input column.
session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])


def feeds(frame):
    """One (n_samples, 1) array per column: float64 or strings (object)."""
    return {c: frame[[c]].to_numpy(dtype=object if c in categorical else np.float64)
            for c in frame.columns}


label, proba = session.run(None, feeds(X_test))
print("labels identical:", bool(np.array_equal(label, pipeline.predict(X_test))))
print(f"max |ONNX - predict_proba|: {np.abs(proba - pipeline.predict_proba(X_test)).max():.2e}")

# %%
# A float32 graph
# ---------------
# A float32 graph is half the size and what most runtimes are fastest with. Fit the
# pipeline on float32 data (the one-hot encoder too) so that the network trains in float32,
# and export it with a float32 sample: the graph then agrees with ``predict_proba`` to
# float32 precision. Here the default ``ZipMap`` is kept: the probabilities come back as one
# ``{species: probability}`` dictionary per penguin.
X32_train = X_train.astype({c: np.float32 for c in numeric})
X32_test = X_test.astype({c: np.float32 for c in numeric})
pipeline32 = Pipeline([
    ("preprocess", ColumnTransformer([
        ("numeric", StandardScaler(), numeric),
        ("categorical", OneHotEncoder(dtype=np.float32, sparse_output=False,
                                      handle_unknown="ignore"), categorical),
    ])),
    ("mlp", MLPClassifier(hidden_layer_sizes=(16, 8), activation="gelu", solver="lbfgs",
                          max_iter=300, random_state=0)),
]).fit(X32_train, y_train)
onx32 = to_onnx(pipeline32, X32_train[:1])
session32 = ort.InferenceSession(onx32.SerializeToString(),
                                 providers=["CPUExecutionProvider"])
inputs32 = {c: X32_test[[c]].to_numpy(dtype=object if c in categorical else np.float32)
            for c in X32_test.columns}
label32, dictionaries = session32.run(None, inputs32)
print("first penguin:", {k: round(v, 4) for k, v in dictionaries[0].items()})
proba32 = np.array([[row[c] for c in pipeline32.classes_] for row in dictionaries])
print("labels identical:", bool(np.array_equal(label32, pipeline32.predict(X32_test))))
print("max |ONNX - predict_proba| (float32): "
      f"{np.abs(proba32 - pipeline32.predict_proba(X32_test)).max():.2e}")

# %%
# What cannot be exported
# -----------------------
# Every built-in activation and output head has an exact ONNX form. An activation of your
# own has none that the converter could know, so the export refuses it rather than
# approximate it, and says what it supports.
from sknnloss.activations import Activation  # noqa: E402


class ScaledTanh(Activation):
    def forward(self, z, out=None):
        return np.multiply(np.tanh(z / 2), 2, out=out)

    def derivative(self, z, a, out=None):
        return np.subtract(1, (a / 2) ** 2, out=out)


custom = MLPClassifier(hidden_layer_sizes=(8,), activation=ScaledTanh(), solver="lbfgs",
                       max_iter=50, random_state=0)
custom.fit(pipeline[:-1].transform(X_train), y_train)
try:
    to_onnx(custom, pipeline[:-1].transform(X_train[:1]).astype(np.float32))
except NotImplementedError as error:
    print(error)
