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
#include <memory>
#include <string>
#include <vector>

#include "engine/cpu/parallel_cpu.h"
#include "engine/cpu/sparse_linear_cpu.h"
#include "engine/nn/module.h"
#include "experiments/step.h"
#include "experiments/train/data_source.h"
#include "experiments/train/metric_logger.h"
#include "experiments/train/replicas.h"
#include "models/model.h"

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

// The evaluation passes of a step computed while training goes on: a copy of the model takes the
// weights and buffers the model has at the step, and idle CPU pool threads evaluate its batches
// (cpu::IdleParts) while the caller trains the next epoch; the caller's thread computes what is left
// when it asks for the results. The batches, and the order in which their terms are added, are
// those of evaluate(), so the results are the same bit for bit. Evaluated batches hold the copy's
// weights frozen (cpu::FrozenWeights over the copy's arena only: the model itself is being trained).
// For a CPU model with more than one pool thread (otherwise there is nobody to compute in the
// background). The model's architecture must not change while this lives.
class BackgroundEvaluation {
 public:
  explicit BackgroundEvaluation(const models::Model& model);
  ~BackgroundEvaluation();   // skips passes not computed yet
  BackgroundEvaluation(const BackgroundEvaluation&) = delete;
  BackgroundEvaluation& operator=(const BackgroundEvaluation&) = delete;

  // Queues pass `name` ("train": the training set through the training loader, else the test set)
  // at `step`; the first pass queued while none is pending copies the weights of `model` (arena
  // `fp`) and its buffers, the next ones at the same step share the copy. Passes already started must
  // be finished first.
  void queue(const std::string& name, const models::Model& model, const nn::FlatParams& fp, const PhaseData& data,
             const Step& step);
  // Hands the queued passes to the idle threads (nothing when none is queued).
  void start();
  bool pending() const { return !passes_.empty(); }
  // Waits for the started passes (computing on this thread what nobody has started), then logs each
  // in queue order as log_eval does. The time printed is the sum of its batches' times.
  void finish(MetricLogger& logger, bool verbose, bool log_clean_accuracy);

 private:
  struct Pass {
    std::string name;
    Step step;
    bool train = false;
    std::vector<int64_t> order;   // training set: the epoch's order
    int64_t first = 0, batches = 0;
  };
  struct Terms;
  models::ModelPtr copy_;
  nn::FlatParams fp_;
  const PhaseData* data_ = nullptr;
  std::vector<Pass> passes_;
  bool started_ = false;
  std::vector<Terms> terms_;
  std::unique_ptr<cpu::FrozenWeights> frozen_;
  std::unique_ptr<cpu::IdleParts> parts_;   // last: destroyed (and waited for) first
};

}  // namespace sdd::exp
