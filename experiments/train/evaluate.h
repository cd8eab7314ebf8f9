// experiments/train/evaluate.h — the evaluation callback of the training loop (SPEC 6.4).
//
// Eval mode (BN running statistics), no gradients, one pass over the whole loader: the test set
// sequentially, or the training set through the TRAINING loader (augmented, noisy labels, the current
// epoch's order; an unseeded order draws a fresh permutation). Per batch, in float32 as the original:
// loss_sum += mean_CE * B, correct += #(argmax == label), count += B; then loss = sum / count and
// accuracy = correct / count in double. Logged as <name>_loss, <name>_accuracy, <name>_examples, and
// for the training set also train_clean_accuracy (accuracy against the original labels; our addition).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/nn/module.h"
#include "experiments/step.h"
#include "experiments/train/data_source.h"
#include "experiments/train/metric_logger.h"
#include "experiments/train/replicas.h"

namespace sdd::exp {

struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;
  double examples = 0.0;
  double clean_accuracy = 0.0;   // training set only
  double seconds = 0.0;
};

// Runs one evaluation pass (leaves the model in eval mode).
EvalResult evaluate(nn::Module& model, const PhaseData& data, bool train_split, int64_t epoch);

// Data-parallel evaluation (replicas.h): the same batches as evaluate() (one training order drawn on
// the calling thread, so the generator advances exactly as with one replica), batch b evaluated by
// the replica of global rank b mod W on its device with data[r] (replica r's PhaseData). Each replica
// accumulates its float32 sums as above; ONE all_reduce_sum of f32 [4] = (loss_sum, correct,
// clean_correct, count) adds them (rank order), and every replica / process gets the same result.
// Equal to evaluate() up to float rounding of the sums (counts are exact; loss_sum is added in a
// different order). Every replica's model is left in eval mode.
EvalResult evaluate_replicas(ReplicaSet& replicas, const std::vector<const PhaseData*>& data, bool train_split,
                             int64_t epoch);

// Logs `r` under `name` at step.iteration() and prints the verbose line (the second half of eval_callback).
void log_eval(const std::string& name, const Step& step, const EvalResult& r, MetricLogger& logger, bool verbose,
              bool log_clean_accuracy);

// The callback: evaluate, log under `name` ("train" or "test") at step.iteration(), and when verbose
// print `<name>\tep EEE\tit III\tloss L.LLL\tacc AA.AA%\tex N\ttime T.TTs` to stdout.
EvalResult eval_callback(const std::string& name, nn::Module& model, const PhaseData& data, const Step& step,
                         MetricLogger& logger, bool verbose, bool log_clean_accuracy);

// The verbose line, without a newline.
std::string eval_line(const std::string& name, const Step& step, const EvalResult& r);

}  // namespace sdd::exp
