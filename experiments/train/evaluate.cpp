// experiments/train/evaluate.cpp — evaluation passes with the original's float32 accumulation.
#include "experiments/train/evaluate.h"

#include <chrono>
#include <cstdio>
#include <iostream>

#include "engine/autograd/autograd.h"
#include "engine/errors.h"
#include "engine/ops.h"

namespace sdd::exp {

namespace {

// The float32 sums of one evaluation pass (the original's accumulation).
struct EvalSums {
  float loss_sum = 0.f, correct = 0.f, clean_correct = 0.f, count = 0.f;
  void add(nn::Module& model, const PhaseBatch& b) {
    Tensor logits = model(b.x);                     // [B, K]
    const float mean_ce = static_cast<float>(ops::cross_entropy(logits, b.y).item());
    loss_sum += mean_ce * static_cast<float>(b.size);
    Tensor pred = ops::argmax(logits);              // i64 [B]
    correct += static_cast<float>(ops::count_equal(pred, b.y));
    if (b.clean_y.defined()) clean_correct += static_cast<float>(ops::count_equal(pred, b.clean_y));
    count += static_cast<float>(b.size);
  }
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
  EvalSums sums;
  if (train_split) {
    const std::vector<int64_t> order = data.train_order(epoch);
    for (int64_t i = 0; i < data.ipe(); ++i) sums.add(model, data.train_batch(order, i, epoch, /*salt=*/1));
  } else {
    for (int64_t i = 0; i < data.test_batches(); ++i) sums.add(model, data.test_batch(i));
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
