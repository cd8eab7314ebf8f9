// experiments/train/evaluate.cpp — evaluation passes with the original's float32 accumulation.
#include "experiments/train/evaluate.h"

#include <chrono>
#include <cstdio>
#include <iostream>

#include "engine/autograd/autograd.h"
#include "engine/cpu/parallel_cpu.h"
#include "engine/cpu/sparse_linear_cpu.h"
#include "engine/errors.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "experiments/train/checkpoint.h"
#include "models/registry.h"

namespace sdd::exp {

namespace {

// One batch's terms: mean cross-entropy, correct and clean-correct counts, size (float32, as the
// original adds them).
struct BatchTerms {
  float mean_ce = 0.f, correct = 0.f, clean_correct = 0.f, size = 0.f;
};

BatchTerms batch_terms(nn::Module& model, const PhaseBatch& b) {
  BatchTerms t;
  Tensor logits = model(b.x);                     // [B, K]
  t.mean_ce = static_cast<float>(ops::cross_entropy(logits, b.y).item());
  Tensor pred = ops::argmax(logits);              // i64 [B]
  t.correct = static_cast<float>(ops::count_equal(pred, b.y));
  if (b.clean_y.defined()) t.clean_correct = static_cast<float>(ops::count_equal(pred, b.clean_y));
  t.size = static_cast<float>(b.size);
  return t;
}

// The float32 sums of one evaluation pass (the original's accumulation).
struct EvalSums {
  float loss_sum = 0.f, correct = 0.f, clean_correct = 0.f, count = 0.f;
  void add(const BatchTerms& t) {
    loss_sum += t.mean_ce * t.size;
    correct += t.correct;
    clean_correct += t.clean_correct;
    count += t.size;
  }
  void add(nn::Module& model, const PhaseBatch& b) { add(batch_terms(model, b)); }
  EvalResult result(std::chrono::steady_clock::time_point t0) const {
    EvalResult r;
    r.examples = static_cast<double>(count);
    r.loss = static_cast<double>(loss_sum) / r.examples;
    r.accuracy = static_cast<double>(correct) / r.examples;
    r.clean_accuracy = static_cast<double>(clean_correct) / r.examples;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }
};

}  // namespace

EvalResult evaluate(nn::Module& model, const PhaseData& data, bool train_split, int64_t epoch) {
  const auto t0 = std::chrono::steady_clock::now();
  model.eval();
  NoGradGuard no_grad;
  // No weight changes during the pass: pruned layers' nonzeros are counted and gathered once per
  // thread instead of once per batch (engine/cpu/sparse_linear_cpu.h).
  const cpu::FrozenWeights frozen;
  const std::vector<int64_t> order = train_split ? data.train_order(epoch) : std::vector<int64_t>();
  const int64_t batches = train_split ? data.ipe() : data.test_batches();
  auto batch = [&](int64_t i) { return train_split ? data.train_batch(order, i, epoch, /*salt=*/1) : data.test_batch(i); };
  EvalSums sums;
  if (data.device().is_cpu() && cpu::threads() > 1 && batches > 1) {
    // On the CPU with several threads, batches are evaluated side by side over the CPU pool (one per
    // thread at a time; a batch's products are computed in the same blocks as always, one after the
    // other on its thread), and their terms are added in batch order afterwards: the same sums, bit
    // for bit, as the loop below.
    std::vector<BatchTerms> terms(static_cast<size_t>(batches));
    cpu::run_parts(batches, [&](int64_t i) {
      NoGradGuard part_no_grad;   // grad mode is per thread
      terms[static_cast<size_t>(i)] = batch_terms(model, batch(i));
    });
    for (const BatchTerms& t : terms) sums.add(t);
  } else {
    for (int64_t i = 0; i < batches; ++i) sums.add(model, batch(i));
  }
  return sums.result(t0);
}

EvalResult evaluate_replicas(ReplicaSet& replicas, const std::vector<const PhaseData*>& data, bool train_split,
                             int64_t epoch) {
  SDD_CHECK(static_cast<int>(data.size()) == replicas.local_count(),
            data.size() << " PhaseData for " << replicas.local_count() << " replicas");
  const auto t0 = std::chrono::steady_clock::now();
  const PhaseData& d0 = *data.front();
  const std::vector<int64_t> order = train_split ? d0.train_order(epoch) : std::vector<int64_t>();
  const int64_t batches = train_split ? d0.ipe() : d0.test_batches();
  const int world = replicas.world_size();
  EvalSums total;
  replicas.run([&](int r) {
    nn::Module& model = replicas.model(r);
    const PhaseData& d = *data[static_cast<size_t>(r)];
    model.eval();
    NoGradGuard no_grad;
    EvalSums sums;
    for (int64_t b = replicas.global_rank(r); b < batches; b += world)
      sums.add(model, train_split ? d.train_batch(order, b, epoch, /*salt=*/1) : d.test_batch(b));
    // f32 [4] = (loss_sum, correct, clean_correct, count), summed over every replica
    Tensor t = Tensor::from_vector(std::vector<float>{sums.loss_sum, sums.correct, sums.clean_correct, sums.count}, {4},
                                   replicas.device(r));
    replicas.comm(r).all_reduce_sum(t);
    if (r == 0) {
      const std::vector<float> v = t.to_vector<float>();
      total.loss_sum = v[0];
      total.correct = v[1];
      total.clean_correct = v[2];
      total.count = v[3];
    }
  });
  return total.result(t0);
}

// ---------------------------------------------------------------- BackgroundEvaluation

struct BackgroundEvaluation::Terms {
  BatchTerms t;
  double seconds = 0.0;
};

BackgroundEvaluation::BackgroundEvaluation(const models::Model& model) {
  SDD_CHECK(model.device().is_cpu(), "BackgroundEvaluation: the model is on " << model.device().str() << ", not the CPU");
  const RngState saved = capture_rng(global_generator());   // the copy's initialisation draws nothing
  copy_ = models::create_model(model.name(), model.outputs());
  restore_rng(global_generator(), saved);
  copy_->to(model.device());
  fp_ = nn::flatten_parameters(*copy_);
  copy_->eval();
}

BackgroundEvaluation::~BackgroundEvaluation() = default;

void BackgroundEvaluation::queue(const std::string& name, const models::Model& model, const nn::FlatParams& fp,
                                 const PhaseData& data, const Step& step) {
  SDD_CHECK(!started_, "BackgroundEvaluation: finish the passes at " << (passes_.empty() ? step : passes_.front().step).str()
                                                                     << " before queueing more");
  SDD_CHECK(passes_.empty() || (passes_.front().step == step && data_ == &data),
            "BackgroundEvaluation: one step and one dataset at a time");
  if (passes_.empty()) {   // the weights and buffers at this step
    SDD_CHECK(fp.total == fp_.total && fp.entries.size() == fp_.entries.size(),
              "BackgroundEvaluation: the model's arena (" << fp.total << " floats) does not match its copy's ("
                                                          << fp_.total << ")");
    fp_.params.copy_(fp.params);
    const nn::NamedTensors from = model.named_buffers(), to = copy_->named_buffers();
    SDD_CHECK(from.size() == to.size(), "BackgroundEvaluation: " << from.size() << " buffers, the copy has " << to.size());
    for (size_t i = 0; i < from.size(); ++i) Tensor(to[i].second).copy_(from[i].second);
    data_ = &data;
  }
  Pass p;
  p.name = name;
  p.step = step;
  p.train = name == "train";
  if (p.train) p.order = data.train_order(step.ep());
  p.first = passes_.empty() ? 0 : passes_.back().first + passes_.back().batches;
  p.batches = p.train ? data.ipe() : data.test_batches();
  passes_.push_back(std::move(p));
}

void BackgroundEvaluation::start() {
  if (passes_.empty() || started_) return;
  started_ = true;
  const int64_t total = passes_.back().first + passes_.back().batches;
  terms_.assign(static_cast<size_t>(total), Terms{});
  frozen_ = std::make_unique<cpu::FrozenWeights>(fp_.params.data<float>(), fp_.total);
  parts_ = std::make_unique<cpu::IdleParts>(total, [this](int64_t k) {
    size_t pi = 0;
    while (k >= passes_[pi].first + passes_[pi].batches) ++pi;
    const Pass& p = passes_[pi];
    const int64_t i = k - p.first;
    const auto t0 = std::chrono::steady_clock::now();
    NoGradGuard no_grad;   // grad mode is per thread
    const PhaseBatch b = p.train ? data_->train_batch(p.order, i, p.step.ep(), /*salt=*/1) : data_->test_batch(i);
    Terms& out = terms_[static_cast<size_t>(k)];
    out.t = batch_terms(*copy_, b);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  });
}

void BackgroundEvaluation::finish(MetricLogger& logger, bool verbose, bool log_clean_accuracy) {
  if (passes_.empty()) return;
  start();
  parts_->finish();
  parts_.reset();
  frozen_.reset();
  std::vector<Pass> passes;
  passes.swap(passes_);
  started_ = false;
  for (const Pass& p : passes) {
    EvalSums sums;
    double seconds = 0.0;
    for (int64_t i = 0; i < p.batches; ++i) {
      const Terms& t = terms_[static_cast<size_t>(p.first + i)];
      sums.add(t.t);
      seconds += t.seconds;
    }
    EvalResult r = sums.result(std::chrono::steady_clock::now());
    r.seconds = seconds;
    log_eval(p.name, p.step, r, logger, verbose, log_clean_accuracy);
  }
}

std::string eval_line(const std::string& name, const Step& step, const EvalResult& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s\tep %03lld\tit %03lld\tloss %.3f\tacc %.2f%%\tex %lld\ttime %.2fs", name.c_str(),
                static_cast<long long>(step.ep()), static_cast<long long>(step.it()), r.loss, r.accuracy * 100.0,
                static_cast<long long>(r.examples), r.seconds);
  return buf;
}

void log_eval(const std::string& name, const Step& step, const EvalResult& r, MetricLogger& logger, bool verbose,
              bool log_clean_accuracy) {
  logger.add(name + "_loss", step.iteration(), r.loss);
  logger.add(name + "_accuracy", step.iteration(), r.accuracy);
  logger.add(name + "_examples", step.iteration(), r.examples);
  if (name == "train" && log_clean_accuracy) logger.add("train_clean_accuracy", step.iteration(), r.clean_accuracy);
  if (verbose) std::cout << eval_line(name, step, r) << std::endl;
}

EvalResult eval_callback(const std::string& name, nn::Module& model, const PhaseData& data, const Step& step,
                         MetricLogger& logger, bool verbose, bool log_clean_accuracy) {
  const EvalResult r = evaluate(model, data, name == "train", step.ep());
  log_eval(name, step, r, logger, verbose, log_clean_accuracy);
  return r;
}

}  // namespace sdd::exp
