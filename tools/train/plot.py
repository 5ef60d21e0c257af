# Plots the train and validation loss curves of the dense and the sparse run (log.csv of each)
# against tokens seen, into one PNG.
import argparse
import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    tok = [int(r["tokens"]) / 1e6 for r in rows]
    tr = [float(r["train_loss"]) for r in rows]
    val = [(int(r["tokens"]) / 1e6, float(r["val_loss"])) for r in rows if r["val_loss"]]
    return tok, tr, val


def main():
    p = argparse.ArgumentParser(description="plot train/val loss of runs")
    p.add_argument("--run", action="append", required=True, help="label=path/to/log.csv (repeatable)")
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="GPT-2 on the Python stdlib: dense vs block-sparse")
    a = p.parse_args()
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    for spec, color in zip(a.run, ["tab:blue", "tab:orange", "tab:green", "tab:red"]):
        label, path = spec.split("=", 1)
        tok, tr, val = read(path)
        ax.plot(tok, tr, color=color, alpha=0.45, lw=1, label=f"{label} train")
        if val:
            ax.plot([v[0] for v in val], [v[1] for v in val], "o-", color=color, ms=3, lw=1.5,
                    label=f"{label} val")
    ax.set_xlabel("tokens seen (millions)")
    ax.set_ylabel("loss (nats/token)")
    ax.set_ylim(bottom=max(0.0, ax.get_ylim()[0]), top=min(ax.get_ylim()[1], 8.5))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(a.title)
    fig.tight_layout()
    fig.savefig(a.out)
    print(f"wrote {os.path.abspath(a.out)}")


if __name__ == "__main__":
    main()
