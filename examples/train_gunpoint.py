"""Main job: learn representations of GunPoint without labels, classify them, print the test accuracy.

Usage: python examples/train_gunpoint.py [--nb-steps N] [--device D] [--seed S]
The defaults are the paper's UCR settings (1500 steps, batch 10, K=10, depth 10, ...).
"""

import argparse
import time

import torch

from tsrepr_sklearn import CausalCNNEncoderClassifier
from tsrepr_sklearn.datasets import load_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="GunPoint")
    parser.add_argument("--nb-steps", type=int, default=1500)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    X_train, y_train, X_test, y_test = load_dataset(args.dataset, split=None)
    clf = CausalCNNEncoderClassifier(nb_steps=args.nb_steps, device=args.device, random_state=args.seed, verbose=1)
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"dataset: {args.dataset}  train {X_train.shape}  test {X_test.shape}")
    print(f"device: {clf.device_}  torch threads: {torch.get_num_threads()}")
    print(f"trained {clf.n_steps_} steps in {seconds:.1f} s (final loss {clf.history_[-10:].mean():.4f}); SVM C={clf.classifier_.C}")
    print(f"test accuracy: {clf.score(X_test, y_test):.4f}")


if __name__ == "__main__":
    main()
