#!/usr/bin/env bash
# Reproduces the shipped default pose model: data (if missing), training (resumable), export with a card, eval.
#   bash scripts/train_default.sh            # run in the foreground (Ctrl-C checkpoints; run it again to resume)
#   nohup nice bash scripts/train_default.sh > ~/.cache/gazenet/train_default.log 2>&1 &
# Env: GAZENET_DATA_DIR (default ~/.cache/gazenet/data), GAZENET_RUNS_DIR (default ~/.cache/gazenet/runs),
#      RUN (run name), MODEL (exported model name), EXPORT_DIR (default: the user model folder),
#      EPOCHS (default 10, the shipped model's).
source "$(dirname "$0")/train_env.sh"
RUN="${RUN:-hopenet_mnv2_96_real30}"
EPOCHS="${EPOCHS:-10}"

# 1. data (gazenet data issue; seed 0): teacher labels of MTFL train/test and UMIST, renders of the train faces,
#    and renders of the held-out test faces (evaluation only: the large-pose check)
[ -f "$DATA/mtfl_train/labels.csv" ] || "${G[@]}" data label "$SHARED/faces_extra/mtfl_80px/labels.csv" --split train -o "$DATA/mtfl_train"
[ -f "$DATA/mtfl_test/labels.csv" ] || "${G[@]}" data label "$SHARED/faces_extra/mtfl_80px/labels.csv" --split test -o "$DATA/mtfl_test"
[ -f "$DATA/umist/labels.csv" ] || "${G[@]}" data label "$SHARED/faces_extra/face_databases_yuzhounh/labels.csv" --databases UMIST -o "$DATA/umist"
[ -f "$DATA/mtfl_test_synth/synth_summary.json" ] || "${G[@]}" data synth "$DATA/mtfl_test/labels.csv" -o "$DATA/mtfl_test_synth" --per-face 2 --seed 0 --workers 2
[ -f "$DATA/mtfl_train_synth11/synth_summary.json" ] || "${G[@]}" data synth "$DATA/mtfl_train/labels.csv" -o "$DATA/mtfl_train_synth11" --per-face 11 --seed 0 --workers 2

[ -n "${SKIP_TRAINING:-}" ] && exit 0  # data only (scripts/train_profiles.sh builds on it)

# 2. training: MobileNetV2 from ImageNet, 96 px, crop preset gazenet, stem + 7 blocks frozen (outside autograd),
#    Adam 1e-4 (heads 5x), cosine, CE + 2 * MSE on the expectation + 2 * the human-class yaw hinge; 10 epochs of
#    400 batches of 64 (each epoch a fresh draw of 25,600 of the ~97k training rows, 30 % of them real faces);
#    resumes from the newest checkpoint when the run exists.
RESUME=()
[ -f "$RUNS/$RUN/checkpoint.json" ] && RESUME=(--resume)
"${G[@]}" train --name "$RUN" "${RESUME[@]}" \
  --data "$DATA/mtfl_train" --data "$DATA/mtfl_train_synth11" \
  --backbone mobilenetv2 --pretrained imagenet --input-size 96 --crop gazenet \
  --epochs "$EPOCHS" --max-batches 400 --batch-size 64 --lr 1e-4 --head-lr-mult 5 --lr-schedule cosine \
  --alpha 2 --loss mse --turn-weight 2 --freeze-blocks 8 --max-val 2000 --seed 0 --real-fraction 0.3 --no-progress

# 3. export the best checkpoint (validation mean MAE) as a model + card (flip-averaged: decided on validation,
#    scripts/flip_average_gain.py), then evaluate it on the held-out sets and write the numbers into its card.
EXPORT=()
[ -n "${EXPORT_DIR:-}" ] && EXPORT=(--export-dir "$EXPORT_DIR")
"${G[@]}" train --export --name "$RUN" --model-name "$MODEL" --flip-average "${EXPORT[@]}"
CARD="${EXPORT_DIR:-$("$PY" -c 'from gazenet_app.model_zoo.store import user_model_dir; print(user_model_dir())')}/$MODEL.json"
"${G[@]}" evaluate "$DATA/mtfl_test" "$DATA/umist" "$DATA/mtfl_test_synth" --model "$CARD" \
  --panoptic "$SHARED/pose/panoptic_opal23_samples" --update-card \
  --json "$RUNS/$RUN/eval.json"
