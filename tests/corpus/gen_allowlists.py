#!/usr/bin/python3
"""Regenerates the enumerated parts of core/src/model_lists_data.c.

The allowlists name classes one by one (never whole modules: every library
module also holds functions that import, read files or run code), so the long
enumerations -- scikit-learn estimators and the helper objects a fitted model
pickles, torch.nn modules and optimizers, numpy ufuncs and scalar types -- are
produced here from the installed libraries and spliced between the
"BEGIN GENERATED <name>" / "END GENERATED <name>" markers of the data file.

Run with Debian's python3 and python3-sklearn, python3-torch, python3-numpy
installed (not needed in CI: the output is committed):

    /usr/bin/python3 tests/corpus/gen_allowlists.py core/src/model_lists_data.c

Besides introspection it pickles a fitted instance of every estimator and
records what the pickle imports (helper objects such as sklearn.tree._tree.Tree
or sklearn._loss.link.* only show up that way).
"""
import collections
import inspect
import io
import pickle
import re
import sys
import warnings

warnings.filterwarnings("ignore")


def recorded_imports(data):
    """What an Unpickler asks find_class for, without building anything
    dangerous: only used on pickles this script made itself."""
    seen = []

    class U(pickle.Unpickler):
        def find_class(self, module, name):
            seen.append((module, name))
            return super().find_class(module, name)

    U(io.BytesIO(data)).load()
    return seen


# Modules that scikit-learn 0.22 renamed to something other than "_" + old.
OLD_SKLEARN_MODULES = {
    "sklearn.tree._classes": "sklearn.tree.tree",
    "sklearn.ensemble._gb": "sklearn.ensemble.gradient_boosting",
    "sklearn.cluster._kmeans": "sklearn.cluster.k_means_",
    "sklearn.cluster._agglomerative": "sklearn.cluster.hierarchical",
    "sklearn.cluster._dbscan": "sklearn.cluster.dbscan_",
    "sklearn.cluster._affinity_propagation": "sklearn.cluster.affinity_propagation_",
    "sklearn.cluster._mean_shift": "sklearn.cluster.mean_shift_",
    "sklearn.cluster._optics": "sklearn.cluster.optics_",
    "sklearn.cluster._spectral": "sklearn.cluster.spectral",
    "sklearn.decomposition._lda": "sklearn.decomposition.online_lda",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting":
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting",
}


def sklearn_rows():
    import numpy as np
    import sklearn
    from sklearn.utils import all_estimators

    rows = set()
    rng = np.random.RandomState(0)
    X = np.abs(rng.rand(40, 4))
    y = np.array([0, 1, 2, 3] * 10)
    yr = rng.rand(40)
    Y2 = np.c_[yr, yr]
    Xt = ["the cat sat", "a dog ran", "cats and dogs", "dog"] * 10
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.preprocessing import StandardScaler
    meta_args = {
        "ClassifierChain": (LogisticRegression(),), "RegressorChain": (Ridge(),),
        "MultiOutputClassifier": (LogisticRegression(),), "MultiOutputRegressor": (Ridge(),),
        "OneVsOneClassifier": (LogisticRegression(),), "OneVsRestClassifier": (LogisticRegression(),),
        "OutputCodeClassifier": (LogisticRegression(),), "RFE": (LogisticRegression(),),
        "RFECV": (LogisticRegression(),), "SelectFromModel": (LogisticRegression(),),
        "SelfTrainingClassifier": (LogisticRegression(),),
        "SequentialFeatureSelector": (LogisticRegression(),),
        "GridSearchCV": (DecisionTreeClassifier(), {"max_depth": [1, 2]}),
        "RandomizedSearchCV": (DecisionTreeClassifier(), {"max_depth": [1, 2]}),
        "Pipeline": ([("s", StandardScaler()), ("m", LogisticRegression())],),
        "FeatureUnion": ([("s", StandardScaler())],),
        "ColumnTransformer": ([("s", StandardScaler(), [0, 1])],),
        "StackingClassifier": ([("a", LogisticRegression())],),
        "StackingRegressor": ([("a", Ridge())],),
        "VotingClassifier": ([("a", LogisticRegression()), ("b", DecisionTreeClassifier())],),
        "VotingRegressor": ([("a", Ridge())],),
        "SparseCoder": (np.eye(4),),
    }
    for name, cls in all_estimators():
        rows.add((cls.__module__, cls.__qualname__))
        try:
            est = cls(*meta_args.get(name, ()))
        except Exception:
            continue
        for args in ((X, y), (X, yr), (X, Y2), (X,), (Xt,), (Xt, y)):
            try:
                est.fit(*args)
                break
            except Exception:
                continue
        try:
            data = pickle.dumps(est, protocol=4)
            for m, n in recorded_imports(data):
                if m.startswith("sklearn."):
                    rows.add((m, n))
        except Exception as e:
            print("skip %s: %s" % (name, e), file=sys.stderr)
    # scorers and metrics a search object or a scorer attribute pickles
    from sklearn import metrics
    from sklearn.metrics import get_scorer_names, get_scorer
    for s in get_scorer_names():
        sc = get_scorer(s)
        try:
            for m, n in recorded_imports(pickle.dumps(sc, protocol=4)):
                if m.startswith("sklearn."):
                    rows.add((m, n))
        except Exception:
            pass
    for n in dir(metrics):
        f = getattr(metrics, n)
        if inspect.isfunction(f) and (n.endswith("_score") or n.endswith("_error")
                                      or n.endswith("_loss") or n.endswith("_distances")):
            rows.add((f.__module__, f.__qualname__))
    from sklearn import feature_selection
    for n in ("chi2", "f_classif", "f_regression", "mutual_info_classif",
              "mutual_info_regression", "r_regression"):
        f = getattr(feature_selection, n, None)
        if f is not None:
            rows.add((f.__module__, f.__qualname__))
    # sklearn <= 0.23 named its modules without the underscore
    # (sklearn.linear_model.logistic, sklearn.tree.tree, ...): old pickles
    # still say so.
    for m, n in list(rows):
        parts = m.split(".")
        if len(parts) >= 3 and parts[-1].startswith("_") and not parts[-1].startswith("__"):
            old = ".".join(parts[:-1] + [parts[-1][1:]])
            if parts[-1] not in ("_tree", "_loss", "_criterion", "_splitter", "_utils",
                                 "_sgd_fast", "_kd_tree", "_ball_tree", "_dist_metrics",
                                 "_quad_tree"):
                rows.add((old, n))
            if m in OLD_SKLEARN_MODULES:
                rows.add((OLD_SKLEARN_MODULES[m], n))
    return sorted(rows), "scikit-learn " + sklearn.__version__


def torch_rows():
    import torch
    import torch.nn as nn
    rows = set()
    for name in dir(nn):
        c = getattr(nn, name)
        if inspect.isclass(c) and issubclass(c, nn.Module) and c.__module__.startswith("torch.nn.modules."):
            rows.add((c.__module__, c.__qualname__))
    import torch.nn.modules as mods
    for modname in dir(mods):
        mod = getattr(mods, modname)
        if inspect.ismodule(mod):
            for n, c in vars(mod).items():
                if inspect.isclass(c) and issubclass(c, nn.Module) and c.__module__ == mod.__name__:
                    rows.add((c.__module__, c.__qualname__))
    for n in dir(torch.optim):
        c = getattr(torch.optim, n)
        if inspect.isclass(c) and issubclass(c, torch.optim.Optimizer):
            rows.add((c.__module__, c.__qualname__))
    sch = torch.optim.lr_scheduler
    for n in dir(sch):
        c = getattr(sch, n)
        if inspect.isclass(c) and c.__module__ == sch.__name__ and not n.startswith("_"):
            rows.add((c.__module__, c.__qualname__))
    return sorted(rows), "torch " + torch.__version__


def numpy_rows():
    import numpy as np
    rows = set()
    ufuncs = sorted(n for n in dir(np) if isinstance(getattr(np, n), np.ufunc))
    for mod in ("numpy.core._multiarray_umath", "numpy._core._multiarray_umath", "numpy"):
        for n in ufuncs:
            rows.add((mod, n))
    for n in dir(np):
        c = getattr(np, n)
        if inspect.isclass(c) and issubclass(c, np.generic):
            rows.add(("numpy", n))
    return sorted(rows), "numpy " + np.__version__


def existing_rows(text):
    """Rows written by hand elsewhere in the file (not repeated)."""
    outside = re.sub(r"/\* BEGIN GENERATED.*?END GENERATED \w+ \*/", "", text, flags=re.S)
    return set(re.findall(r'\{"([^"]+)", "([^"]+)", "[^"]+"\}', outside))


def c_rows(rows, list_name):
    return "".join('  {"%s", "%s", "%s"},\n' % (m, n, list_name) for m, n in rows)


def splice(text, tag, body, version):
    pat = re.compile(r"(  /\* BEGIN GENERATED %s[^\n]*\n).*?(  /\* END GENERATED %s \*/)" % (tag, tag), re.S)
    head = "  /* BEGIN GENERATED %s from %s by tests/corpus/gen_allowlists.py */\n" % (tag, version)
    out, n = pat.subn(lambda m: head + body + m.group(2), text)
    if n != 1:
        sys.exit("marker %s not found" % tag)
    return out


def main():
    path = sys.argv[1]
    text = open(path).read()
    for tag, fn, lst in (("sklearn", sklearn_rows, "sklearn"), ("torch", torch_rows, "torch"),
                         ("numpy", numpy_rows, "numpy")):
        rows, version = fn()
        have = existing_rows(text)
        rows = [r for r in rows if r not in have]
        text = splice(text, tag, c_rows(rows, lst), version)
        print("%s: %d entries (%s)" % (tag, len(rows), version), file=sys.stderr)
    open(path, "w").write(text)


if __name__ == "__main__":
    main()
