"""Probe estimators: scikit-learn models that standardize one layer's ``X`` inside ``fit``.

Each probe fits a :class:`~sklearn.preprocessing.StandardScaler` on the training rows
only and then a well-kept scikit-learn model on the standardized features, so that no
statistic of a test fold ever leaks into training and the units' scales (which differ by
orders of magnitude across a transformer's residual stream) do not decide the penalty.

:class:`LogisticProbe`
    Multinomial logistic regression (L2, lbfgs): the default linear classifier.
:class:`RidgeClassifierProbe`
    Closed-form least-squares one-vs-rest classifier (``RidgeClassifier``); its
    predictions are a fixed linear map of the training labels, which is what makes the
    fast permutation test in :mod:`probing.probes.probe_permutation` exact.
:class:`RidgeProbe`
    Ridge regression for continuous targets (also closed form).
:class:`MLPProbe`
    A one- or two-hidden-layer perceptron, for classification or regression.
"""

from __future__ import annotations

import functools

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils import ClassifierTags, RegressorTags, check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from probing._core.errors import ProbingError

__all__ = ["LogisticProbe", "MLPProbe", "RidgeClassifierProbe", "RidgeProbe"]

TASKS = ("classification", "regression")
#: Early stopping holds out at least this many training rows ...
MIN_VALIDATION_ROWS = 50
#: ... and at most this fraction of them; smaller training sets train without it.
MAX_VALIDATION_FRACTION = 0.2


@functools.cache
def _blas_controller():
    return ThreadpoolController()


def one_blas_thread():
    """A context in which every BLAS library (numpy's and scipy's OpenBLAS) runs one thread.

    A probe fit is many small BLAS calls: lbfgs's level-1 vector updates (scipy >= 1.15
    makes them through OpenBLAS, whose threads cost more than such a call) and the
    products of a few thousand rows. Threads there only add overhead, worst on a shared
    machine: one logistic fit (45 classes, 576 units, 560 rows) took 0.12 s of CPU with
    one thread against 2.4 s with two at a load average of 22. The estimates agree to
    rounding (coefficients within 1e-14; benchmarks/bench_probe_run.py checks the tables).
    """
    return _blas_controller().limit(limits=1, user_api="blas")


class _ScaledProbe(BaseEstimator):
    """Standardize, then fit ``self._make_model()``; subclasses say which model."""

    _classifier = True

    def _make_model(self, random_state):
        raise NotImplementedError

    def _check_params(self):
        """Raise ProbingError for parameters no fit could use."""

    def fit(self, X, y):
        """Fit the scaler and the model on the training rows.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_units)
        y : array_like of shape (n_samples,)

        Returns
        -------
        self
        """
        self._check_params()
        X, y = validate_data(self, X, y, y_numeric=not self._is_classifier())
        if self._is_classifier():
            check_classification_targets(y)
        with one_blas_thread():  # many small BLAS calls: threads only add overhead
            self.scaler_ = StandardScaler().fit(X)
            model = self._make_model(check_random_state(getattr(self, "random_state", None)))
            self.model_ = self._fit_model(model, self.scaler_.transform(X), y)
        if hasattr(self.model_, "n_iter_"):
            self.n_iter_ = self.model_.n_iter_
        if self._is_classifier():
            self.classes_ = self.model_.classes_
        return self

    def _is_classifier(self):
        return self._classifier

    def _fit_model(self, model, X, y):
        return model.fit(X, y)

    def _scaled(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.scaler_.transform(X)

    def predict(self, X):
        """Predicted class (or value) per row, ``(n_samples,)``."""
        X = self._scaled(X)  # check_is_fitted first
        return self.model_.predict(X)


class LogisticProbe(ClassifierMixin, _ScaledProbe):
    """L2-penalised multinomial logistic regression on standardized units.

    Parameters
    ----------
    C : float, default 1.0
        Inverse penalty strength (scikit-learn's ``C``).
    max_iter : int, default 200
        Cap on lbfgs iterations (a convergence warning past it, never an error).

    Attributes
    ----------
    scaler_ : StandardScaler
    model_ : LogisticRegression
    classes_ : ndarray of shape (n_classes,)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)); y = (X[:, 0] > 0).astype(int)
    >>> float(LogisticProbe().fit(X, y).score(X, y)) > 0.9
    True
    """

    def __init__(self, C=1.0, max_iter=200):
        self.C = C
        self.max_iter = max_iter

    def _make_model(self, random_state):
        return LogisticRegression(C=self.C, max_iter=self.max_iter)

    def predict_proba(self, X):
        """Class probabilities, ``(n_samples, n_classes)`` in the order of ``classes_``."""
        X = self._scaled(X)  # check_is_fitted first
        return self.model_.predict_proba(X)

    def decision_function(self, X):
        """Linear scores, ``(n_samples,)`` for two classes else ``(n_samples, n_classes)``."""
        X = self._scaled(X)  # check_is_fitted first
        return self.model_.decision_function(X)


class RidgeClassifierProbe(ClassifierMixin, _ScaledProbe):
    """Closed-form least-squares one-vs-rest classifier on standardized units.

    Targets are coded ``+1/-1`` per class and fitted by ridge regression with an
    intercept (scikit-learn's ``RidgeClassifier``, Cholesky solver); the predicted class
    is the highest score. Test predictions are therefore ``H @ Y_train`` for a matrix
    ``H`` that depends on ``X`` alone, the property the fast permutation test uses.

    Parameters
    ----------
    alpha : float, default 1.0
        Ridge penalty (fixed, not tuned, so the permutation test stays closed form).

    Attributes
    ----------
    scaler_ : StandardScaler
    model_ : RidgeClassifier
    classes_ : ndarray of shape (n_classes,)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)); y = np.where(X[:, 1] > 0, "a", "b")
    >>> RidgeClassifierProbe(alpha=10.0).fit(X, y).predict(X[:3]).tolist() == y[:3].tolist()
    True
    """

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def _check_params(self):
        _check_alpha(self.alpha)

    def _make_model(self, random_state):
        return RidgeClassifier(alpha=self.alpha, solver="cholesky")

    def decision_function(self, X):
        """One-vs-rest scores, ``(n_samples,)`` for two classes else ``(n_samples, n_classes)``."""
        X = self._scaled(X)  # check_is_fitted first
        return self.model_.decision_function(X)


class RidgeProbe(RegressorMixin, _ScaledProbe):
    """Ridge regression on standardized units, for continuous targets.

    Parameters
    ----------
    alpha : float, default 1.0
        Ridge penalty (fixed, so the permutation test stays closed form).

    Attributes
    ----------
    scaler_ : StandardScaler
    model_ : Ridge

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 4)); y = X @ [1.0, 0.0, -2.0, 0.5]
    >>> round(float(RidgeProbe(alpha=0.1).fit(X, y).score(X, y)), 3)
    1.0
    """

    _classifier = False

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def _check_params(self):
        _check_alpha(self.alpha)

    def _make_model(self, random_state):
        return Ridge(alpha=self.alpha, solver="cholesky")


def _is_classification(probe):
    return probe.task == "classification"


class MLPProbe(_ScaledProbe):
    """A perceptron with one or two hidden layers on standardized units.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (64,)
        One or two hidden layer widths, e.g. ``(64,)`` or ``(128, 64)``.
    task : {"classification", "regression"}, default "classification"
        Which scikit-learn model to fit (``MLPClassifier`` or ``MLPRegressor``).
    alpha : float, default 1e-4
        L2 penalty.
    max_iter : int, default 200
        Cap on Adam epochs.
    early_stopping : bool, default False
        Hold out training rows and stop when their score has not improved for 10
        epochs (as Hewitt & Liang stop on a development set). Without it an MLP runs to
        ``max_iter`` on tasks it can memorise, such as control tasks. The held-out set
        is 10% of the training rows, raised to ``MIN_VALIDATION_ROWS`` (50) rows when
        that is at most 20% of them; with fewer than 250 training rows early stopping
        is refused (``early_stopping_`` False) and training runs to ``max_iter``: a
        score on a dozen held-out rows is too noisy to stop on, and stopping on it left
        the probe at chance (0.55 against 0.88 for the logistic probe, 160 rows). The
        ``"mlp"`` shortcut of the layer sweeps turns it on; the default follows
        scikit-learn's.
    random_state : int, RandomState or None
        Seeds the weight initialisation, the mini-batch order and the held-out rows.

    Attributes
    ----------
    scaler_ : StandardScaler
    model_ : MLPClassifier or MLPRegressor
    classes_ : ndarray of shape (n_classes,)
        Classification only.
    n_iter_ : int
        Epochs run.
    early_stopping_ : bool
        Whether early stopping was used (False when refused on small data).
    stopped_early_ : bool
        Whether training stopped because the held-out score stalled (before
        ``max_iter``); the layer sweeps count these fits in a warning.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3)); y = (X[:, 0] * X[:, 1] > 0).astype(int)
    >>> probe = MLPProbe(hidden_layer_sizes=(16,), max_iter=500, random_state=0).fit(X, y)
    >>> probe.predict_proba(X).shape
    (100, 2)
    """

    def __init__(self, hidden_layer_sizes=(64,), task="classification", alpha=1e-4,
                 max_iter=200, early_stopping=False, random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.task = task
        self.alpha = alpha
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.random_state = random_state

    def _is_classifier(self):
        return self.task == "classification"

    def _fit_model(self, model, X, y):
        # The held-out rows must hold every class (stratified split) and be enough to
        # tell a better epoch from noise; on smaller data, train on everything.
        n_classes = np.unique(y).size if self._is_classifier() else 1
        fraction = max(0.1, MIN_VALIDATION_ROWS / len(X))
        use = bool(model.early_stopping) and fraction <= MAX_VALIDATION_FRACTION and int(
            np.ceil(fraction * len(X))) >= max(n_classes, 2)
        model.set_params(early_stopping=use, validation_fraction=fraction if use else 0.1)
        model.fit(X, y)
        self.early_stopping_ = use
        self.stopped_early_ = use and model.n_iter_ < self.max_iter
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor" if self.task == "regression" else "classifier"
        if self.task == "regression":
            tags.regressor_tags = RegressorTags()
        else:
            tags.classifier_tags = ClassifierTags()
        return tags

    def _check_params(self):
        if self.task not in TASKS:
            raise ProbingError(f"MLPProbe: task must be one of {list(TASKS)}; got {self.task!r}")
        sizes = self.hidden_layer_sizes
        if (not isinstance(sizes, tuple | list) or len(sizes) not in (1, 2)
                or not all(isinstance(h, int | np.integer) and h > 0 for h in sizes)):
            raise ProbingError(f"MLPProbe: hidden_layer_sizes must be one or two positive "
                               f"ints, e.g. (64,) or (128, 64); got {sizes!r}")

    def _make_model(self, random_state):
        model = MLPClassifier if self._is_classifier() else MLPRegressor
        return model(hidden_layer_sizes=tuple(self.hidden_layer_sizes), alpha=self.alpha,
                     max_iter=self.max_iter, early_stopping=bool(self.early_stopping),
                     random_state=random_state)

    @available_if(_is_classification)
    def predict_proba(self, X):
        """Class probabilities, ``(n_samples, n_classes)`` (classification only)."""
        X = self._scaled(X)  # check_is_fitted first
        return self.model_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classification) or R^2 (regression) on ``(X, y)``."""
        mixin = ClassifierMixin if self._is_classifier() else RegressorMixin
        return mixin.score(self, X, y, sample_weight=sample_weight)


def _check_alpha(alpha):
    if not isinstance(alpha, int | float | np.floating) or isinstance(alpha, bool) or alpha <= 0:
        raise ProbingError(f"alpha must be a positive number; got {alpha!r}")
