// tests/test_train_loop.cpp — the training loop on tiny synthetic data (SPEC 6.3-6.4, 11.1):
// callback counts and order, LR values, split runs, data order, evaluation metrics and skipping.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <random>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/autograd/autograd.h"
#include "engine/cpu/parallel_cpu.h"
#include "experiments/train/evaluate.h"
#include "experiments/train/metric_logger.h"
#include "test_train_fixture.h"

using namespace sdd;
using namespace sdd::exp;
using namespace sdd::test_train;

namespace {

struct Run {
  int64_t steps = 0;
  std::map<int64_t, std::vector<std::string>> calls;   // iteration -> callback names
  PhaseResult result;
};

Run run_phase(models::Model& m, const std::string& dir, const Hparams& tr, std::optional<Step> start,
              std::optional<Step> end, RunContext& ctx, bool eval_only_at_end = false) {
  Run r;
  TrainTarget target;
  target.model = &m;
  PhaseOptions opt;
  opt.output_dir = dir;
  opt.training = tr;
  opt.dataset = dataset_bundle();
  if (start) opt.start = *start;
  else opt.start = Step(0, 12);
  opt.end = end;
  opt.evaluate_only_at_end = eval_only_at_end;
  opt.on_step = [&](const Step&) { ++r.steps; };
  opt.on_callback = [&](const std::string& n, const Step& s) { r.calls[s.iteration()].push_back(n); };
  r.result = train_phase(target, opt, ctx);
  return r;
}

}  // namespace

TEST_CASE("callback counts match the original's training test", "[train]") {
  RunContext ctx = quiet_context();
  TempDir d("counts");
  struct Case { std::optional<Step> start, end; int64_t expect; };
  const std::vector<Case> cases = {
      {std::nullopt, Step(2, 12), 3},          // end at 2 iterations
      {std::nullopt, Step(12, 12), 13},        // one epoch
      {std::nullopt, std::nullopt, 37},        // full 3ep
      {Step(5, 12), std::nullopt, 32},         // start at 0ep5it
      {Step(17, 12), std::nullopt, 20},        // start at 1ep5it
  };
  int k = 0;
  for (const auto& c : cases) {
    auto m = make_mlp(1);
    const Run r = run_phase(*m, d.sub("c" + std::to_string(k++)), training_bundle(), c.start, c.end, ctx);
    CHECK(r.steps == c.expect);
    CHECK_FALSE(r.result.skipped);
    CHECK(r.result.end.iteration() == (c.end ? c.end->iteration() : 36));
  }
}

TEST_CASE("callback order: train eval, test eval, model saves, logger, checkpoint", "[train]") {
  RunContext ctx = quiet_context();
  TempDir d("order");
  {
    auto m = make_mlp(1);
    const Run r = run_phase(*m, d.sub("a"), training_bundle(), Step(5, 12), Step(29, 12), ctx);
    using V = std::vector<std::string>;
    CHECK(r.calls.at(5) == V{"train_eval_at_start", "test_eval_at_start", "save_model_at_start"});
    CHECK(r.calls.at(12) == V{"train_eval", "test_eval", "checkpoint"});
    CHECK(r.calls.at(29) == V{"train_eval_at_end", "test_eval_at_end", "save_model_at_end", "save_logger_at_end"});
    CHECK(r.calls.count(6) == 0);
    CHECK(io::file_exists(d.sub("a") + "/model_ep0_it5.safetensors"));
    CHECK(io::file_exists(d.sub("a") + "/model_ep2_it5.safetensors"));
    CHECK(io::file_exists(d.sub("a") + "/checkpoint.safetensors"));
    // logger: six records per evaluated step plus train_clean_accuracy after train_examples
    const MetricLogger l = MetricLogger::load(d.sub("a"));
    CHECK(l.records().size() == 4 * 7);
    CHECK(l.records()[0].name == "train_loss");
    CHECK(l.records()[3].name == "train_clean_accuracy");
    CHECK(l.records()[4].name == "test_loss");
    CHECK(l.get("train_examples", 5) == 600.0);
    CHECK(l.get("test_examples", 29) == 100.0);
  }
  {
    auto m = make_mlp(1);
    const Run r = run_phase(*m, d.sub("b"), training_bundle(), std::nullopt, Step(24, 12), ctx, /*eval_only_at_end=*/true);
    using V = std::vector<std::string>;
    CHECK(r.calls.at(0) == V{"train_eval_at_start", "test_eval_at_start", "save_model_at_start", "checkpoint"});
    CHECK(r.calls.at(12) == V{"checkpoint"});
    CHECK(r.calls.at(24) == V{"train_eval_at_end", "test_eval_at_end", "save_model_at_end", "save_logger_at_end", "checkpoint"});
  }
}

TEST_CASE("LR schedule of a phase and LR 0 at t = 0 with warmup", "[train]") {
  const optim::LrSchedule s = phase_schedule(training_bundle(), 12);
  CHECK(s.lr_at(2) == Approx(0.02));
  CHECK(s.lr_at(6) == Approx(0.06));
  CHECK(s.lr_at(12) == Approx(0.1));
  CHECK(s.lr_at(24) == Approx(0.01));
  CHECK(s.lr_at(0) == 0.0);
  Hparams bad = training_bundle();
  bad.set_none("gamma");
  CHECK_THROWS_AS(phase_schedule(bad, 12), UserError);

  // The first update uses LR 0: after one iteration the weights are unchanged; after two they moved.
  RunContext ctx = quiet_context();
  TempDir d("lr0");
  auto m = make_mlp(3);
  const auto w0 = param_values(*m, "fc.weight");
  run_phase(*m, d.sub("a"), training_bundle(), std::nullopt, Step(1, 12), ctx);
  CHECK(param_values(*m, "fc.weight") == w0);
  auto m2 = make_mlp(3);
  run_phase(*m2, d.sub("b"), training_bundle(), std::nullopt, Step(2, 12), ctx);
  CHECK(param_values(*m2, "fc.weight") != w0);
}

TEST_CASE("a run split in two phases equals one run (seeded data order, no momentum)", "[train]") {
  RunContext ctx = quiet_context();
  TempDir d("split");
  auto whole = make_mlp(4);
  run_phase(*whole, d.sub("whole"), training_bundle(), std::nullopt, std::nullopt, ctx);
  auto part = make_mlp(4);
  run_phase(*part, d.sub("p1"), training_bundle(), std::nullopt, Step(17, 12), ctx);
  run_phase(*part, d.sub("p2"), training_bundle(), Step(17, 12), std::nullopt, ctx);
  for (const auto& kv : whole->named_parameters()) CHECK(param_values(*part, kv.first) == kv.second.to_vector<float>());
  const auto a = io::load_safetensors(d.sub("whole") + "/model_ep3_it0.safetensors");
  const auto b = io::load_safetensors(d.sub("p2") + "/model_ep3_it0.safetensors");
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) CHECK(a.tensors[i].second.to_vector<float>() == b.tensors[i].second.to_vector<float>());
  const MetricLogger lw = MetricLogger::load(d.sub("whole"));
  const MetricLogger l1 = MetricLogger::load(d.sub("p1"));
  const MetricLogger l2 = MetricLogger::load(d.sub("p2"));
  for (const char* name : {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}) {
    CHECK(lw.get(name, 0) == l1.get(name, 0));
    CHECK(lw.get(name, 12) == l1.get(name, 12));
    CHECK(lw.get(name, 24) == l2.get(name, 24));
    CHECK(lw.get(name, 36) == l2.get(name, 36));
  }
  // it learned something
  CHECK(*lw.get("test_accuracy", 36) > 0.5);
}

TEST_CASE("data order: seeded repeatable and different per epoch; unseeded draws fresh orders; splits cached", "[train]") {
  DataCache cache(dataset_root());
  const Hparams ds = dataset_bundle();
  PhaseData seeded(cache, ds, 7, Device::cpu(), 7);
  CHECK(seeded.ipe() == 12);
  CHECK(phase_iterations_per_epoch(cache, ds) == 12);
  const auto o0 = seeded.train_order(0);
  CHECK(o0 == seeded.train_order(0));
  CHECK(o0 != seeded.train_order(1));
  PhaseData seeded_again(cache, ds, 7, Device::cpu(), 7);
  CHECK(seeded_again.train_order(0) == o0);
  PhaseData other_seed(cache, ds, 8, Device::cpu(), 8);
  CHECK(other_seed.train_order(0) == seeded.train_order(1));   // seed + epoch
  PhaseData unseeded(cache, ds, std::nullopt, Device::cpu(), 0);
  CHECK(unseeded.train_order(0) != unseeded.train_order(0));
  CHECK(cache.disk_reads() == 2);   // one train and one test read for all of the above

  // batches: B = 50 from the order, last partial batch kept under subsampling
  const PhaseBatch b = seeded.train_batch(o0, 1, 0);
  CHECK(b.size == 50);
  CHECK(b.x.shape() == Shape{50, 1, 28, 28});
  const auto labels = b.y.to_vector<int64_t>();
  for (int64_t j = 0; j < 50; ++j) CHECK(labels[static_cast<size_t>(j)] == seeded.train().labels[static_cast<size_t>(o0[static_cast<size_t>(50 + j)])]);
  Hparams sub = dataset_bundle(64);
  sub.set("subsample_fraction", Value::flt(0.5));
  PhaseData half(cache, sub, 0, Device::cpu(), 0);
  CHECK(half.train().n == 300);
  CHECK(half.ipe() == 5);
  CHECK(half.train_batch(half.train_order(0), 4, 0).size == 300 - 4 * 64);
  CHECK(cache.disk_reads() == 2);
}

TEST_CASE("evaluation: float32 sums, clean accuracy against original labels under label noise", "[train]") {
  DataCache cache(dataset_root());
  Hparams noisy = dataset_bundle();
  noisy.set("random_labels_fraction", Value::flt(1.0));
  PhaseData clean_data(cache, dataset_bundle(), 0, Device::cpu(), 0);
  PhaseData noisy_data(cache, noisy, 0, Device::cpu(), 0);
  auto m = make_mlp(5);
  const EvalResult c = evaluate(*m, clean_data, true, 0);
  CHECK(c.examples == 600.0);
  CHECK(c.clean_accuracy == c.accuracy);
  const EvalResult n = evaluate(*m, noisy_data, true, 0);
  CHECK(n.clean_accuracy == Approx(c.accuracy));   // same images, same predictions
  CHECK(noisy_data.train().labels != noisy_data.train().original_labels);
  CHECK(noisy_data.train().original_labels == clean_data.train().labels);
  const EvalResult t = evaluate(*m, clean_data, false, 0);
  CHECK(t.examples == 100.0);
  CHECK(t.loss > 0.0);
  MetricLogger lg;
  eval_callback("test", *m, clean_data, Step(5, 12), lg, false, true);
  CHECK(lg.str().rfind("test_loss,5,", 0) == 0);
  CHECK(eval_line("test", Step(5, 12), t).rfind("test\tep 000\tit 005\tloss ", 0) == 0);
}

TEST_CASE("background evaluation: evaluate()'s results bit for bit while the model changes meanwhile", "[train]") {
  struct TwoThreads {
    TwoThreads() { cpu::set_threads(2); }
    ~TwoThreads() { cpu::set_threads(1); }
  } two_threads;
  DataCache cache(dataset_root());
  Hparams noisy = dataset_bundle();
  noisy.set("random_labels_fraction", Value::flt(0.2));
  PhaseData data(cache, noisy, 0, Device::cpu(), 0);
  auto m = make_mlp(5, "mnist_mlp_300_100");
  nn::FlatParams fp = nn::flatten_parameters(*m);
  BackgroundEvaluation bg(*m);
  std::vector<float> w = fp.params.to_vector<float>();
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  const Tensor x = data.test_batch(0).x;
  // Dense products, then a pruned network (the sparse kernels, whose counts and gathers of the copy
  // are kept for the pass while the model's own are not).
  for (const double keep : {1.0, 0.05}) {
    INFO("weights kept " << keep);
    for (const auto& e : fp.entries)
      if (e.shape.size() == 2)
        for (int64_t i = 0; i < e.numel; ++i)
          if (u(gen) >= keep) w[static_cast<size_t>(e.offset + i)] = 0.f;
    fp.params.copy_(Tensor::from_vector(w, {fp.total}));
    // The model's outputs for three later weight sets, computed beforehand.
    const std::vector<float> scales = {-1.f, 0.5f, 3.f};
    auto set_scaled = [&](float scale) {
      std::vector<float> v = w;
      for (float& f : v) f *= scale;
      fp.params.copy_(Tensor::from_vector(v, {fp.total}));
    };
    std::vector<std::vector<float>> expected;
    for (const float scale : scales) {
      set_scaled(scale);
      NoGradGuard ng;
      expected.push_back((*m)(x).to_vector<float>());
    }
    fp.params.copy_(Tensor::from_vector(w, {fp.total}));
    const Step step(2 * data.ipe(), data.ipe());
    const EvalResult train = evaluate(*m, data, true, 2), test = evaluate(*m, data, false, 2);
    bg.queue("train", *m, fp, data, step);
    bg.queue("test", *m, fp, data, step);
    bg.start();
    // Meanwhile the model changes, as training changes it: its own forward sees every change.
    for (size_t k = 0; k < scales.size(); ++k) {
      set_scaled(scales[k]);
      NoGradGuard ng;
      const std::vector<float> a = (*m)(x).to_vector<float>();
      REQUIRE(a.size() == expected[k].size());
      CHECK(std::memcmp(a.data(), expected[k].data(), a.size() * sizeof(float)) == 0);
    }
    MetricLogger lg;
    bg.finish(lg, false, true);
    CHECK_FALSE(bg.pending());
    CHECK(lg.str().rfind("train_loss," + std::to_string(step.iteration()) + ",", 0) == 0);   // queue order
    CHECK(*lg.get("train_loss", step.iteration()) == train.loss);
    CHECK(*lg.get("train_accuracy", step.iteration()) == train.accuracy);
    CHECK(*lg.get("train_clean_accuracy", step.iteration()) == train.clean_accuracy);
    CHECK(*lg.get("train_examples", step.iteration()) == train.examples);
    CHECK(*lg.get("test_loss", step.iteration()) == test.loss);
    CHECK(*lg.get("test_accuracy", step.iteration()) == test.accuracy);
    CHECK(*lg.get("test_examples", step.iteration()) == test.examples);
    CHECK(train.accuracy != test.accuracy);
    fp.params.copy_(Tensor::from_vector(w, {fp.total}));
  }
  // Passes of a new step must wait until the started ones are finished.
  bg.queue("test", *m, fp, data, Step(0, data.ipe()));
  bg.start();
  CHECK_THROWS(bg.queue("train", *m, fp, data, Step(0, data.ipe())));
}

TEST_CASE("a phase whose end model and logger exist is skipped", "[train]") {
  RunContext ctx = quiet_context();
  TempDir d("skip");
  auto m = make_mlp(6);
  run_phase(*m, d.path, training_bundle(), std::nullopt, Step(12, 12), ctx);
  auto m2 = make_mlp(6);
  const Run again = run_phase(*m2, d.path, training_bundle(), std::nullopt, Step(12, 12), ctx);
  CHECK(again.result.skipped);
  CHECK(again.steps == 0);
}
