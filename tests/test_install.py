"""The pinned dependencies work together: one cv2 with its contrib modules, mediapipe's legacy
solutions API, dlib and its shipped models, both decoders."""

from __future__ import annotations

from importlib import metadata


def test_opencv_distributions_share_one_version_and_contrib_modules_import():
    import cv2

    versions = {metadata.version(d) for d in ("opencv-python", "opencv-contrib-python")}
    assert len(versions) == 1, f"opencv-python and opencv-contrib-python differ: {versions}"
    assert cv2.__version__ == versions.pop().rsplit(".", 1)[0]
    assert hasattr(cv2, "ximgproc") and hasattr(cv2, "optflow")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    assert dis is not None


def test_mediapipe_ships_its_solutions_and_models():
    import mediapipe as mp
    import numpy as np

    assert mp.__version__ == "0.10.21"
    assert np.__version__.startswith("1.")
    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=1) as hands:
        result = hands.process(np.zeros((64, 64, 3), np.uint8))
    assert result.multi_hand_landmarks is None  # the model loaded and ran, offline


def test_dlib_face_models_are_shipped():
    """Found without importing the package (it needs pkg_resources, which new venvs lack)."""
    from importlib.util import find_spec
    from pathlib import Path

    import dlib

    spec = find_spec("face_recognition_models")
    models = Path(spec.submodule_search_locations[0]) / "models"
    names = {p.name for p in models.iterdir()}
    assert "dlib_face_recognition_resnet_model_v1.dat" in names
    assert "shape_predictor_5_face_landmarks.dat" in names
    assert dlib.__version__.startswith("20.")


def test_decoders_import():
    import av
    import decord
    import scenedetect

    assert av.__version__ and decord.__version__ and scenedetect.__version__
