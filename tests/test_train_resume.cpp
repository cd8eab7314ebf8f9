// tests/test_train_resume.cpp — checkpoint/resume of a training phase (SPEC 6.5, DESIGN rule 10): a
// phase stopped after k epochs and relaunched from its checkpoint produces the same logger and
// weights as an uninterrupted run (seeded and unseeded data order, momentum, masks); corrupt or
// mismatched checkpoints are one-line UserErrors and leave the model untouched.
#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "experiments/train/checkpoint.h"
#include "experiments/train/metric_logger.h"
#include "test_train_fixture.h"

using namespace sdd;
using namespace sdd::exp;
using namespace sdd::test_train;

namespace {

struct Outcome {
  std::vector<int64_t> steps;
  std::string logger;
  nn::NamedTensors params;
};

Outcome phase(models::Model& m, const std::string& dir, const Hparams& tr, Step end, RunContext& ctx,
              const pruning::Mask* mask = nullptr) {
  Outcome o;
  TrainTarget t;
  t.model = &m;
  if (mask) t.mask = *mask;
  PhaseOptions opt;
  opt.output_dir = dir;
  opt.training = tr;
  opt.dataset = dataset_bundle();
  opt.start = Step(0, 12);
  opt.end = end;
  opt.on_step = [&](const Step& s) { o.steps.push_back(s.iteration()); };
  train_phase(t, opt, ctx);
  if (MetricLogger::exists(dir)) o.logger = MetricLogger::load(dir).str();
  for (const auto& kv : m.named_parameters()) o.params.emplace_back(kv.first, kv.second.clone());
  return o;
}

void check_same_params(const nn::NamedTensors& a, const nn::NamedTensors& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(a[i].second.to_vector<float>() == b[i].second.to_vector<float>());
  }
}

pruning::Mask some_mask(const models::Model& m) {
  const Tensor p = m.parameter("fc.weight");
  std::vector<float> v(static_cast<size_t>(p.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = (i % 3 == 0) ? 0.f : 1.f;
  pruning::Mask mask;
  mask.set("fc.weight", Tensor::from_vector(v, p.shape()));
  return mask;
}

}  // namespace

TEST_CASE("a phase interrupted after one epoch resumes to the identical logger and weights", "[train]") {
  for (const bool seeded : {true, false}) {
    INFO("seeded " << seeded);
    RunContext ctx = quiet_context();
    TempDir d("resume");
    Hparams tr = training_bundle(seeded, 0.9);
    tr.set("weight_decay", Value::flt(5e-4));
    manual_seed(321);
    auto whole = make_mlp(21);
    const pruning::Mask mask = some_mask(*whole);
    manual_seed(321);
    const Outcome a = phase(*whole, d.sub("whole"), tr, Step(36, 12), ctx, &mask);

    manual_seed(321);
    auto part = make_mlp(21);
    manual_seed(321);
    const Outcome first = phase(*part, d.sub("split"), tr, Step(12, 12), ctx, &mask);   // "killed" at 1ep
    CHECK(first.steps.size() == 13);
    manual_seed(999);   // a relaunch starts from another generator state: the checkpoint restores it
    auto relaunched = make_mlp(77);
    const Outcome b = phase(*relaunched, d.sub("split"), tr, Step(36, 12), ctx, &mask);
    REQUIRE(!b.steps.empty());
    CHECK(b.steps.front() == 12);   // resumed at the checkpoint step, whose callbacks run again
    CHECK(b.steps.back() == 36);
    CHECK(b.logger == a.logger);
    check_same_params(a.params, b.params);
  }
}

TEST_CASE("corrupt or mismatched checkpoints are user errors that say to delete the file", "[train]") {
  RunContext ctx = quiet_context();
  TempDir d("corrupt");
  auto m = make_mlp(31);
  phase(*m, d.path, training_bundle(), Step(12, 12), ctx);
  const std::string ck = d.path + "/checkpoint.safetensors";
  REQUIRE(io::file_exists(ck));
  const std::string good = io::read_file(ck);

  auto expect_user_error = [&](models::Model& model, const Hparams& tr) {
    const auto before = param_values(model, "fc.weight");
    try {
      phase(model, d.path, tr, Step(36, 12), ctx);
      FAIL("no error");
    } catch (const UserError& e) {
      const std::string msg = e.what();
      CHECK(msg.find("checkpoint") != std::string::npos);
      CHECK(msg.find("delete it") != std::string::npos);
      CHECK(msg.find('\n') == std::string::npos);
    }
    CHECK(param_values(model, "fc.weight") == before);   // nothing half-restored
  };

  // truncated file
  io::write_file_atomic(ck, good.substr(0, good.size() / 2));
  auto m1 = make_mlp(32);
  expect_user_error(*m1, training_bundle());
  // a different model
  io::write_file_atomic(ck, good);
  auto wide = make_mlp(33, "mnist_mlp_20");
  expect_user_error(*wide, training_bundle());
  // a different optimizer (momentum state missing)
  auto m2 = make_mlp(34);
  expect_user_error(*m2, training_bundle(true, 0.9));
  // damaged after writing: one flipped bit in the tensor data, or one digit of the logger (both still
  // parse): the checksum names it
  auto expect_checksum_error = [&](const std::string& bytes) {
    io::write_file_atomic(ck, bytes);
    auto model = make_mlp(37);
    const auto before = param_values(*model, "fc.weight");
    try {
      phase(*model, d.path, training_bundle(), Step(36, 12), ctx);
      FAIL("no error");
    } catch (const UserError& e) {
      CHECK(std::string(e.what()).find("does not match its checksum") != std::string::npos);
    }
    CHECK(param_values(*model, "fc.weight") == before);
  };
  {
    std::string flipped = good;
    flipped[flipped.size() - 40] = static_cast<char>(flipped[flipped.size() - 40] ^ 0x08);
    expect_checksum_error(flipped);
    const size_t at = good.find("test_accuracy,12,");
    REQUIRE(at != std::string::npos);
    std::string digit = good;
    const size_t d0 = at + std::string("test_accuracy,12,").size() + 2;
    REQUIRE(std::isdigit(static_cast<unsigned char>(digit[d0])));
    digit[d0] = digit[d0] == '1' ? '2' : '1';
    expect_checksum_error(digit);
  }
  // a tampered step (the checksum dropped, as in checkpoints written before it existed)
  {
    auto c = io::load_safetensors(ck);
    REQUIRE(c.metadata.erase("checksum") == 1);
    c.metadata["ipe"] = "13";
    io::save_safetensors(ck, c.tensors, c.metadata);
    auto m3 = make_mlp(35);
    expect_user_error(*m3, training_bundle());
    c.metadata["ipe"] = "12";
    c.metadata["rng_offset"] = "x";
    io::save_safetensors(ck, c.tensors, c.metadata);
    expect_user_error(*m3, training_bundle());
  }
  // a file without a checksum (written before it existed) still resumes
  {
    io::write_file_atomic(ck, good);
    auto c = io::load_safetensors(ck);
    REQUIRE(c.metadata.erase("checksum") == 1);
    io::save_safetensors(ck, c.tensors, c.metadata);
    auto m5 = make_mlp(38);
    CHECK(phase(*m5, d.path, training_bundle(), Step(13, 12), ctx).steps.front() == 12);
  }
  // the intact file resumes fine
  io::write_file_atomic(ck, good);
  auto m4 = make_mlp(36);
  const Outcome ok = phase(*m4, d.path, training_bundle(), Step(36, 12), ctx);
  CHECK(ok.steps.front() == 12);
}
