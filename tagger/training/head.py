"""The musicnn model's genre head: a class-balanced multinomial logistic
regression on track embeddings, fitted with scikit-learn and returned as the
weights of the Keras softmax layer (network.genre_head), plus its numpy form
for cross-validation."""

from __future__ import annotations

import numpy as np

HEAD_C = 0.03  # inverse L2 strength of the logistic regression head (chosen by 4-fold CV, 3 seeds)


def fit_head(emb: list[np.ndarray], y: np.ndarray, n_labels: int, c: float, seed: int,
             sources: list[str] | None = None) -> dict:
    """Class-balanced multinomial logistic regression on standardised track
    embeddings (the mean over a track's chunks). Returns the softmax layer's
    weights with the standardisation folded in: W (1706, n_labels) and b.

    Applied to each chunk and aggregated geometrically (model.aggregate),
    the head gives softmax(W . mean embedding + b): what it was fitted on.
    Balanced: every label weighs the same in total; within a label each
    source that has it the same; within those, every track the same."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    X = np.stack([e.mean(axis=0) for e in emb])
    y = np.asarray(y)
    sources = list(sources) if sources is not None else [""] * len(y)
    cell = {}
    for s, label in zip(sources, y):
        cell[(s, label)] = cell.get((s, label), 0) + 1
    per_label = {label: sum(1 for (_, k) in cell if k == label) for label in set(y.tolist())}
    weights = np.array([1.0 / (cell[(s, label)] * per_label[label])
                        for s, label in zip(sources, y)])
    weights *= len(X) / weights.sum()  # mean 1, so that C means what it does unweighted
    mean, scale = X.mean(0), np.sqrt(np.maximum(X.var(0), 1e-12))
    clf = LogisticRegression(C=c, max_iter=5000, random_state=seed)
    # One BLAS thread: L-BFGS makes hundreds of small calls, which threads
    # only slow down; on a busy 2-core machine a 160-track fit took 98 s
    # with OpenBLAS' threads and 2.4 s with one.
    with threadpool_limits(limits=1, user_api="blas"):
        clf.fit((X - mean) / scale, y, sample_weight=weights)
    coef, intercept = clf.coef_, clf.intercept_
    if len(clf.classes_) == 2:  # sklearn keeps one row for two classes: sigmoid(z)
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0], intercept[0]]) / 2
    W = np.zeros((X.shape[1], n_labels))
    b = np.full(n_labels, -1e4)  # a label absent from training is never predicted
    W[:, clf.classes_] = coef.T / scale[:, None]
    b[clf.classes_] = intercept - (mean / scale) @ coef.T
    return {"W": W.astype(np.float32), "b": b.astype(np.float32)}


def head_probs(head: dict, emb: np.ndarray) -> np.ndarray:
    """numpy form of the head, for cross-validation: (n, 1706) -> (n, n_labels)."""
    z = emb @ head["W"] + head["b"]
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
