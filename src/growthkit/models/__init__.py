"""Estimators with the scikit-learn contract: segmentation, churn, CLV, recommenders, influence.

Each sub-package is optional to import: heavy dependencies are imported lazily
and fail with an install hint.
"""
