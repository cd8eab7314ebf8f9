// tests/test_train_masking.cpp — masks in the training loop (SPEC 6.6, 7.3-7.4): pruned weights are
// exactly zero (or V) in every saved file, regain semantics (zeros at the switch, momentum carried),
// the distance penalty pulls towards the start weights, and the convergence stop (persisted).
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "experiments/train/checkpoint.h"
#include "experiments/train/metric_logger.h"
#include "test_train_fixture.h"

using namespace sdd;
using namespace sdd::exp;
using namespace sdd::test_train;

namespace {

// Half of fc_layers.0.weight and of fc.weight pruned, drawn from a fixed generator.
pruning::Mask half_mask(const models::Model& m) {
  Generator g(2024);
  pruning::Mask mask;
  for (const char* name : {"fc_layers.0.weight", "fc.weight"}) {
    const Tensor p = m.parameter(name);
    std::vector<float> v(static_cast<size_t>(p.numel()));
    for (float& x : v) x = g.uniform() < 0.5 ? 0.f : 1.f;
    mask.set(name, Tensor::from_vector(v, p.shape()));
  }
  return mask;
}

int64_t arena_offset(const models::Model& m, const std::string& name) {
  int64_t off = 0;
  for (const auto& kv : m.named_parameters()) {
    if (kv.first == name) return off;
    off += kv.second.numel();
  }
  FAIL("no parameter " << name);
  return -1;
}

PhaseResult run(TrainTarget& t, const std::string& dir, const Hparams& tr, const Hparams& ds, Step end, RunContext& ctx,
                std::function<void(const Step&)> on_step = nullptr) {
  PhaseOptions opt;
  opt.output_dir = dir;
  opt.training = tr;
  opt.dataset = ds;
  opt.start = Step(0, end.ipe());
  opt.end = end;
  opt.on_step = std::move(on_step);
  return train_phase(t, opt, ctx);
}

void check_pruned_equal(const Tensor& values, const Tensor& mask, const std::vector<float>* v_ref, const std::string& what) {
  const auto w = values.to_vector<float>(), m = mask.to_vector<float>();
  REQUIRE(w.size() == m.size());
  int64_t bad = 0, pruned = 0;
  for (size_t i = 0; i < w.size(); ++i)
    if (m[i] == 0.f) {
      ++pruned;
      if (w[i] != (v_ref ? (*v_ref)[i] : 0.f)) ++bad;
    }
  INFO(what);
  CHECK(pruned > 0);
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("pruned weights are exactly zero (or V) in every model file and checkpoint", "[train]") {
  RunContext ctx = quiet_context();
  TempDir d("pruned");
  Hparams tr = training_bundle(true, 0.9);
  tr.set("weight_decay", Value::flt(1e-4));
  for (const std::string freeze : {"zero", "init"}) {
    auto m = make_mlp(11);
    TrainTarget t;
    t.model = m.get();
    t.mask = half_mask(*m);
    t.freeze_type = freeze;
    std::vector<std::vector<float>> refs;
    if (freeze == "init")
      for (const auto& name : t.mask.names()) {
        t.freeze_reference.emplace_back(name, m->parameter(name).clone());
        refs.push_back(m->parameter(name).to_vector<float>());
      }
    const std::string dir = d.sub(freeze);
    run(t, dir, tr, dataset_bundle(), Step(24, 12), ctx);
    const auto ck = io::load_safetensors(dir + "/checkpoint.safetensors");
    for (const std::string file : {"model_ep0_it0.safetensors", "model_ep2_it0.safetensors"}) {
      const auto f = io::load_safetensors(dir + "/" + file);
      size_t k = 0;
      for (const auto& name : t.mask.names()) {
        check_pruned_equal(f.get(name), t.mask.at(name), freeze == "init" ? &refs[k] : nullptr, freeze + " " + file + " " + name);
        check_pruned_equal(ck.get("model." + name), t.mask.at(name), freeze == "init" ? &refs[k] : nullptr, "checkpoint " + name);
        CHECK(ck.get("mask." + name).to_vector<float>() == t.mask.at(name).to_vector<float>());
        ++k;
      }
    }
    // unpruned weights did train
    const auto f0 = io::load_safetensors(dir + "/model_ep0_it0.safetensors");
    const auto f2 = io::load_safetensors(dir + "/model_ep2_it0.safetensors");
    CHECK(f0.get("fc.weight").to_vector<float>() != f2.get("fc.weight").to_vector<float>());
  }
}

TEST_CASE("regain: weights start at zero at the switch and keep their momentum", "[train]") {
  RunContext ctx = quiet_context();
  TempDir d("regain");
  Hparams tr = training_bundle(true, 0.9);
  tr.set("regain_pruned_weights_steps", Value::str("1ep"));
  auto m = make_mlp(12);
  TrainTarget t;
  t.model = m.get();
  t.mask = half_mask(*m);
  const Tensor fc_mask = t.mask.at("fc.weight");
  std::vector<float> w12, w13;
  io::SafetensorsContents ck12;
  const std::string dir = d.sub("r");
  run(t, dir, tr, dataset_bundle(), Step(24, 12), ctx, [&](const Step& s) {
    if (s.iteration() == 12) w12 = param_values(*m, "fc.weight");
    if (s.iteration() == 13) {
      w13 = param_values(*m, "fc.weight");
      ck12 = io::load_safetensors(dir + "/checkpoint.safetensors");   // still the one written at 1ep
    }
  });
  REQUIRE(!w13.empty());
  check_pruned_equal(Tensor::from_vector(w12, fc_mask.shape()), fc_mask, nullptr, "weights at the switch");
  REQUIRE(ck12.metadata.at("ep") == "1");
  CHECK(ck12.metadata.at("regain_done") == "0");

  // The gradient of the step-12 batch at the checkpointed weights.
  auto g_model = make_mlp(99);
  nn::NamedTensors state;
  for (const auto& kv : g_model->state_dict()) state.emplace_back(kv.first, ck12.get("model." + kv.first));
  g_model->load_state(state);
  DataCache cache(dataset_root());
  PhaseData data(cache, dataset_bundle(), 0, Device::cpu(), 0);
  const PhaseBatch b = data.train_batch(data.train_order(1), 0, 1);
  g_model->train();
  ops::cross_entropy((*g_model)(b.x), b.y).backward();
  const auto g = g_model->parameter("fc.weight").grad().to_vector<float>();
  const auto buf = ck12.get("optimizer.momentum_buffer").to_vector<float>();
  const int64_t off = arena_offset(*m, "fc.weight");
  const auto mk = fc_mask.to_vector<float>();
  int64_t carried = 0, checked = 0;
  for (size_t i = 0; i < mk.size(); ++i) {
    if (mk[i] != 0.f) continue;
    const float b12 = buf[static_cast<size_t>(off) + i];
    const float expect = -0.1f * (0.9f * b12 + g[i]);   // lr(12) = 0.1, momentum carried
    CHECK(w13[i] == Approx(expect).margin(1e-6));
    ++checked;
    if (std::fabs(b12) > 1e-4f && std::fabs(w13[i] - (-0.1f * g[i])) > 1e-6f) ++carried;
  }
  CHECK(checked > 0);
  CHECK(carried > checked / 4);   // pruned weights had live momentum that the regain kept

  // After the switch the network is dense: checkpoint masks are all ones, the end model is dense.
  const auto ck = io::load_safetensors(dir + "/checkpoint.safetensors");
  CHECK(ck.metadata.at("regain_done") == "1");
  for (float v : ck.get("mask.fc.weight").to_vector<float>()) REQUIRE(v == 1.f);
  const auto end = io::load_safetensors(dir + "/model_ep2_it0.safetensors").get("fc.weight").to_vector<float>();
  int64_t nonzero = 0;
  for (size_t i = 0; i < mk.size(); ++i) nonzero += mk[i] == 0.f && end[i] != 0.f;
  CHECK(nonzero > 0);
}

TEST_CASE("distance penalty pulls the weights towards the phase's start weights", "[train]") {
  RunContext ctx = quiet_context();
  TempDir d("dist");
  auto distance = [&](std::optional<double> lambda) {
    auto m = make_mlp(13);
    TrainTarget t;
    t.model = m.get();
    Hparams tr = training_bundle(true, 0.0);
    if (lambda) tr.set("distance_penalty", Value::flt(*lambda));
    const std::string dir = d.sub(lambda ? "pen" : "free");
    run(t, dir, tr, dataset_bundle(), Step(12, 12), ctx);
    const auto a = io::load_safetensors(dir + "/model_ep0_it0.safetensors");
    const auto b = io::load_safetensors(dir + "/model_ep1_it0.safetensors");
    double s = 0;
    for (const auto& kv : a.tensors) {
      const auto x = kv.second.to_vector<float>(), y = b.get(kv.first).to_vector<float>();
      for (size_t i = 0; i < x.size(); ++i) s += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    }
    return std::sqrt(s);
  };
  const double free = distance(std::nullopt), pen = distance(2.0);
  CHECK(free > 0.0);
  CHECK(pen < 0.8 * free);
}

TEST_CASE("convergence stop at train loss < 0.001, persisted so a relaunch stops too", "[train]") {
  RunContext ctx = quiet_context();
  TempDir d("conv");
  Hparams ds = dataset_bundle(10);
  ds.set("subsample_fraction", Value::flt(0.1));   // 60 examples, ipe 6
  Hparams tr = training_bundle(true, 0.0);
  tr.set("optimizer_name", Value::str("adam"));
  tr.set("lr", Value::flt(0.01));
  tr.set_none("warmup_steps");
  tr.set_none("milestone_steps");
  tr.set_none("gamma");
  tr.set("use_convergence_stopping_criterion", Value::boolean(true));
  auto m = make_mlp(14);
  TrainTarget t;
  t.model = m.get();
  const PhaseResult r = run(t, d.path, tr, ds, Step(6 * 60, 6), ctx);
  REQUIRE(r.converged);
  CHECK(r.end.it() == 0);
  CHECK(r.end.iteration() < 6 * 60);
  CHECK(model_exists(d.path, r.end));
  CHECK_FALSE(model_exists(d.path, Step(6 * 60, 6)));
  const MetricLogger l = MetricLogger::load(d.path);
  CHECK(*l.get("train_loss", r.end.iteration()) < 0.001);
  CHECK(*l.get("train_loss", r.end.iteration() - 6) >= 0.001);

  auto m2 = make_mlp(15);
  TrainTarget t2;
  t2.model = m2.get();
  int64_t steps = 0;
  const PhaseResult again = run(t2, d.path, tr, ds, Step(6 * 60, 6), ctx, [&](const Step&) { ++steps; });
  CHECK(again.converged);
  CHECK(again.end == r.end);
  CHECK(steps == 0);
  CHECK(param_values(*m2, "fc.weight") == param_values(*m, "fc.weight"));
}
