#!/usr/bin/env bash
# `make evaluate`: data validation, 5-fold cross-validation and the held-out routing report, in reports/nlu/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=reports/nlu
mkdir -p "$out"
quiet() { grep -v -E '^WARNING: Location|Warning|warn\(|^\s+(import|declare_namespace|from|self\.|Base:|\)\.)|^Implementing|debug' || true; }

echo "== rasa data validate"
.venv-bot/bin/rasa data validate --data bot/data --domain domain.yml --config config.yml >"$out/validate.log" 2>&1 \
  && echo "   ok" || { tail -30 "$out/validate.log"; exit 1; }

echo "== 5-fold cross-validation over bot/data (all intents)"
start=$(date +%s)
.venv-bot/bin/rasa test nlu --nlu bot/data --config config.yml --cross-validation --folds 5 \
  --out "$out/cv" >"$out/cv.log" 2>&1 || { tail -30 "$out/cv.log"; exit 1; }
.venv-bot/bin/python - "$out/cv/intent_report.json" "$(( $(date +%s) - start ))" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print(f"   accuracy {report['accuracy']:.3f}, macro-F1 {report['macro avg']['f1-score']:.3f} ({sys.argv[2]} s)")
PY

echo "== held-out routing (bot/heldout, never trained on)"
.venv-bot/bin/python -m bot.evaluation.evaluate models/current.tar.gz 2>&1 | quiet | sed -n '/^Held-out/,$p'
