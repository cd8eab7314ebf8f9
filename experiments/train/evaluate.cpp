// experiments/train/evaluate.cpp — evaluation passes with the original's float32 accumulation.
#include "experiments/train/evaluate.h"

#include <chrono>
#include <cstdio>
#include <iostream>

#include "engine/autograd/autograd.h"
#include "engine/ops.h"

namespace sdd::exp {

EvalResult evaluate(nn::Module& model, const PhaseData& data, bool train_split, int64_t epoch) {
  const auto t0 = std::chrono::steady_clock::now();
  model.eval();
  NoGradGuard no_grad;
  float loss_sum = 0.f, correct = 0.f, clean_correct = 0.f, count = 0.f;
  auto one = [&](const PhaseBatch& b) {
    Tensor logits = model(b.x);                     // [B, K]
    const float mean_ce = static_cast<float>(ops::cross_entropy(logits, b.y).item());
    loss_sum += mean_ce * static_cast<float>(b.size);
    Tensor pred = ops::argmax(logits);              // i64 [B]
    correct += static_cast<float>(ops::count_equal(pred, b.y));
    if (b.clean_y.defined()) clean_correct += static_cast<float>(ops::count_equal(pred, b.clean_y));
    count += static_cast<float>(b.size);
  };
  if (train_split) {
    const std::vector<int64_t> order = data.train_order(epoch);
    for (int64_t i = 0; i < data.ipe(); ++i) one(data.train_batch(order, i, epoch, /*salt=*/1));
  } else {
    for (int64_t i = 0; i < data.test_batches(); ++i) one(data.test_batch(i));
  }
  EvalResult r;
  r.examples = static_cast<double>(count);
  r.loss = static_cast<double>(loss_sum) / r.examples;
  r.accuracy = static_cast<double>(correct) / r.examples;
  r.clean_accuracy = static_cast<double>(clean_correct) / r.examples;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string eval_line(const std::string& name, const Step& step, const EvalResult& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s\tep %03lld\tit %03lld\tloss %.3f\tacc %.2f%%\tex %lld\ttime %.2fs", name.c_str(),
                static_cast<long long>(step.ep()), static_cast<long long>(step.it()), r.loss, r.accuracy * 100.0,
                static_cast<long long>(r.examples), r.seconds);
  return buf;
}

EvalResult eval_callback(const std::string& name, nn::Module& model, const PhaseData& data, const Step& step,
                         MetricLogger& logger, bool verbose, bool log_clean_accuracy) {
  const bool train = name == "train";
  const EvalResult r = evaluate(model, data, train, step.ep());
  logger.add(name + "_loss", step.iteration(), r.loss);
  logger.add(name + "_accuracy", step.iteration(), r.accuracy);
  logger.add(name + "_examples", step.iteration(), r.examples);
  if (train && log_clean_accuracy) logger.add("train_clean_accuracy", step.iteration(), r.clean_accuracy);
  if (verbose) std::cout << eval_line(name, step, r) << std::endl;
  return r;
}

}  // namespace sdd::exp
