"""The formulation: index sets, the linear model container, and one function per family."""

from .build import BuiltModel, Handles, build_model
from .linear import Index, LinearModel
from .sets import ModelData, model_data

__all__ = ["BuiltModel", "Handles", "Index", "LinearModel", "ModelData", "build_model", "model_data"]
