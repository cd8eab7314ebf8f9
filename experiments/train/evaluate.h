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

#include "engine/nn/module.h"
#include "experiments/step.h"
#include "experiments/train/data_source.h"
#include "experiments/train/metric_logger.h"

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

// The callback: evaluate, log under `name` ("train" or "test") at step.iteration(), and when verbose
// print `<name>\tep EEE\tit III\tloss L.LLL\tacc AA.AA%\tex N\ttime T.TTs` to stdout.
EvalResult eval_callback(const std::string& name, nn::Module& model, const PhaseData& data, const Step& step,
                         MetricLogger& logger, bool verbose, bool log_clean_accuracy);

// The verbose line, without a newline.
std::string eval_line(const std::string& name, const Step& step, const EvalResult& r);

}  // namespace sdd::exp
