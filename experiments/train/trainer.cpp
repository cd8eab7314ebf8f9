// experiments/train/trainer.cpp — train_phase: the original's training loop (SPEC 6.3) with its
// callback list (SPEC 6.4), regain / convergence / BN-L1 / distance-penalty extensions (SPEC 6.6),
// model files, logger and checkpoint/resume.
#include "experiments/train/trainer.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "engine/autograd/autograd.h"
#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "engine/optim/lr_schedule.h"
#include "engine/optim/optimizer.h"
#include "engine/rng.h"
#include "experiments/train/checkpoint.h"
#include "experiments/train/data_source.h"
#include "experiments/train/evaluate.h"
#include "experiments/train/metric_logger.h"
#include "experiments/train/phase_masking.h"
#include "experiments/train/progress.h"
#include "models/registry.h"

namespace sdd::exp {

std::string model_file_name(const Step& s) { return "model_" + s.ep_it() + ".safetensors"; }

bool model_exists(const std::string& dir, const Step& s) { return io::file_exists(dir + "/" + model_file_name(s)); }

void save_model(const models::Model& m, const std::string& dir, const Step& s) {
  models::save_model(m, dir + "/" + model_file_name(s));
}

void load_model(models::Model& m, const std::string& dir, const Step& s) {
  models::load_model_weights(m, dir + "/" + model_file_name(s));
}

namespace {

struct Callback {
  std::string name;
  std::function<bool(const Step&)> when;
  std::function<void(const Step&)> run;
};

// A step at the phase's ipe: unchanged when the ipe agrees, else the same (ep, it).
Step at_ipe(const Step& s, int64_t ipe) { return s.ipe() == ipe ? s : Step::from_epoch(s.ep(), s.it(), ipe); }

std::vector<int64_t> milestone_iterations(const Hparams& tr, int64_t ipe) {
  std::vector<int64_t> out;
  const auto ms = tr.opt_str("milestone_steps");
  if (!ms || ms->empty()) return out;
  std::stringstream ss(*ms);
  std::string part;
  while (std::getline(ss, part, ',')) out.push_back(Step::from_str(part, ipe).iteration());
  return out;
}

}  // namespace

optim::LrSchedule phase_schedule(const Hparams& tr, int64_t ipe) {
  std::optional<int64_t> warmup;
  const auto w = tr.opt_str("warmup_steps");
  if (w && !w->empty()) warmup = Step::from_str(*w, ipe).iteration();
  const std::vector<int64_t> ms = milestone_iterations(tr, ipe);
  const double gamma = tr.opt_flt("gamma").value_or(0.0);
  SDD_USER_CHECK(ms.empty() == (gamma == 0.0),
                 "--milestone_steps and --gamma must be set together (got " << (ms.empty() ? "only --gamma" : "only --milestone_steps")
                                                                            << "); set both or neither");
  return optim::LrSchedule(tr.flt("lr"), ms, gamma, warmup);
}

namespace {

// theta0 of the distance penalty as an arena: model_ep{S} of this phase when present, else the current weights.
Tensor distance_reference(const nn::FlatParams& fp, const std::string& dir, const Step& start) {
  const std::string path = dir + "/" + model_file_name(start);
  if (!io::file_exists(path)) return fp.params.clone();
  const io::SafetensorsContents c = io::load_safetensors(path);
  std::vector<float> ref = fp.params.to_vector<float>();
  for (const auto& e : fp.entries) {
    const Tensor& t = c.get(e.name, path);
    SDD_USER_CHECK(t.dtype() == DType::f32 && t.numel() == e.numel,
                   path << " holds '" << e.name << "' as " << t.str() << ", expected f32 " << shape_str(e.shape)
                        << "; delete the file to restart the phase");
    const std::vector<float> v = t.to_vector<float>();
    std::copy(v.begin(), v.end(), ref.begin() + e.offset);
  }
  return Tensor::from_vector(ref, {fp.total}, fp.params.device());
}

}  // namespace

PhaseResult train_phase(TrainTarget& target, const PhaseOptions& opt, RunContext& ctx) {
  SDD_CHECK(target.model != nullptr, "train_phase needs a model");
  SDD_CHECK(!opt.output_dir.empty(), "train_phase needs an output directory");
  models::Model& model = *target.model;
  const std::string& dir = opt.output_dir;
  const Hparams& tr = opt.training;
  std::filesystem::create_directories(dir);
  if (!ctx.data) ctx.data = std::make_shared<DataCache>(ctx.dataset_root);
  DataCache& cache = *ctx.data;

  // ---- steps at the phase's ipe (from the data actually loaded)
  const int64_t ipe = phase_iterations_per_epoch(cache, opt.dataset);
  const Step S = at_ipe(opt.start, ipe);
  const Step E = opt.end ? at_ipe(*opt.end, ipe) : Step::from_str(tr.str("training_steps"), ipe);
  if (model_exists(dir, E) && MetricLogger::exists(dir)) return PhaseResult{E, true, false};

  // ---- model on the device, parameter arena, mask, optimizer, schedule (SPEC 6.3 steps 1-2)
  model.to(ctx.device);
  nn::FlatParams fp = nn::flatten_parameters(model);
  ArenaMask am = build_arena_mask(target.mask, target.freeze_type, target.freeze_reference, fp);
  std::unique_ptr<optim::Optimizer> optimizer =
      optim::make_optimizer(tr.str("optimizer_name"), fp, tr.flt("momentum"), tr.flt("nesterov_momentum"),
                            tr.opt_flt("weight_decay").value_or(0.0));
  if (am.defined()) optimizer->set_mask(am.mask, am.reset);
  const optim::LrSchedule schedule = phase_schedule(tr, ipe);
  apply_arena_mask(fp, am);   // the first forward already sees the masked network

  // ---- resume (SPEC 6.3 step 4)
  MetricLogger logger;
  bool regain_done = false;
  Step cur = S;
  const std::optional<int64_t> order_seed = tr.opt_int("data_order_seed");
  uint64_t aug_seed = 0;
  if (io::file_exists(checkpoint_path(dir))) {
    LoadedCheckpoint ck = read_checkpoint(dir, model, *optimizer, am.names, am.shapes, ipe);
    model.load_state(ck.model_state, /*strict=*/true);
    optimizer->load_state_tensors(ck.optimizer_state, ck.state.optimizer_steps);
    const nn::NamedTensors views = am.views();
    for (size_t i = 0; i < views.size(); ++i) Tensor(views[i].second).copy_(ck.masks[i].second);
    apply_arena_mask(fp, am);
    logger = MetricLogger::parse(ck.state.logger, checkpoint_path(dir));
    regain_done = ck.state.regain_done;
    aug_seed = ck.state.aug_seed;
    restore_rng(global_generator(), ck.state.rng);
    cur = Step::from_epoch(ck.state.ep, ck.state.it, ipe);
    if (ck.state.convergence_iteration) {   // the phase had stopped early: finish its files and stop again
      const Step cs(*ck.state.convergence_iteration, ipe);
      if (!model_exists(dir, cs)) save_model(model, dir, cs);
      logger.save(dir);
      return PhaseResult{cs, false, true};
    }
  } else {
    aug_seed = order_seed ? static_cast<uint64_t>(*order_seed)
                          : (static_cast<uint64_t>(global_generator().next_u32()) << 32) | global_generator().next_u32();
  }
  if (E <= cur) return PhaseResult{E, false, false};   // SPEC 6.3 step 6: nothing to do, no callbacks

  PhaseData data(cache, opt.dataset, order_seed, ctx.device, aug_seed);
  SDD_CHECK(data.ipe() == ipe, "data ipe " << data.ipe() << " != " << ipe);

  // ---- SDD extensions (SPEC 6.3 step 7)
  std::optional<Step> regain;
  if (const auto rs = tr.opt_str("regain_pruned_weights_steps"); rs && !rs->empty()) {
    regain = Step::from_str(*rs, ipe);
    if (*regain > E) regain = E;
  }
  const bool convergence_stop = tr.flag("use_convergence_stopping_criterion");
  std::vector<Tensor> bn_weights;   // gammas for the BN L1 term (network slimming only)
  if (tr.flag("bn_sparsity_regularization") && target.network_slimming)
    for (auto& nm : model.named_modules())
      if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(nm.second)) bn_weights.push_back(bn->weight);
  const double lambda = tr.opt_flt("distance_penalty").value_or(0.0);
  Tensor theta0, penalty_mask;
  if (lambda != 0.0) {
    theta0 = distance_reference(fp, dir, S);
    std::vector<float> pm(static_cast<size_t>(fp.total), 0.f);
    for (const auto& e : fp.entries)
      if (e.name.find("weight") != std::string::npos || e.name.find("bias") != std::string::npos)
        std::fill(pm.begin() + e.offset, pm.begin() + e.offset + e.numel, 1.f);
    penalty_mask = Tensor::from_vector(pm, {fp.total}, fp.params.device());
  }
  const bool log_clean = !opt.dataset.opt_str("unsupervised_labels").has_value();

  // ---- callbacks (SPEC 6.4)
  RngState epoch_rng = capture_rng(global_generator());
  const auto phase_t0 = std::chrono::steady_clock::now();
  auto at = [](const Step& x) { return [x](const Step& s) { return s == x; }; };
  auto every_epoch = [](const Step& s) { return s.it() == 0; };
  auto eval = [&](const std::string& name) {
    return [&, name](const Step& s) { eval_callback(name, model, data, s, logger, ctx.verbose, log_clean); };
  };
  std::vector<Callback> cbs = {
      {"save_model_at_start", at(S), [&](const Step& s) { save_model(model, dir, s); }},
      {"save_model_at_end", at(E), [&](const Step& s) { save_model(model, dir, s); }},
      {"save_logger_at_end", at(E), [&](const Step&) { logger.save(dir); }},
      {"checkpoint", every_epoch,
       [&](const Step& s) {
         CheckpointState st;
         st.ep = s.ep();
         st.it = s.it();
         st.ipe = ipe;
         st.optimizer_steps = optimizer->steps();
         st.logger = logger.str();
         st.rng = epoch_rng;
         st.aug_seed = aug_seed;
         st.regain_done = regain_done;
         save_checkpoint(dir, model, *optimizer, am.views(), st);
       }},
  };
  auto prepend = [&](Callback c) { cbs.insert(cbs.begin(), std::move(c)); };
  const bool timekeeper = opt.evaluate_only_at_end || !opt.test_eval_every_epoch;
  if (timekeeper && ctx.verbose)
    cbs.push_back({"timekeeper", every_epoch, [&](const Step& s) {
                     const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - phase_t0).count();
                     std::cout << "Ep " << s.ep() << "\tIt " << s.it() << "\tTime Elapsed " << sec << std::endl;
                   }});
  if (opt.evaluate_only_at_end) {
    prepend({"test_eval_at_start", at(S), eval("test")});
    prepend({"test_eval_at_end", at(E), eval("test")});
    prepend({"train_eval_at_start", at(S), eval("train")});
    prepend({"train_eval_at_end", at(E), eval("train")});
  } else {
    if (opt.test_eval_every_epoch) prepend({"test_eval", every_epoch, eval("test")});
    if (S.it() != 0) prepend({"test_eval_at_start", at(S), eval("test")});
    if (E.it() != 0) prepend({"test_eval_at_end", at(E), eval("test")});
    prepend({"train_eval", every_epoch, eval("train")});
    if (S.it() != 0) prepend({"train_eval_at_start", at(S), eval("train")});
    if (E.it() != 0) prepend({"train_eval_at_end", at(E), eval("train")});
  }

  Progress* progress = ctx.progress.get();
  if (progress) progress->begin_phase(opt.label, cur.iteration(), E.iteration(), ipe);
  int64_t images = 0;

  // ---- the loop (SPEC 6.3 step 8)
  for (int64_t e = cur.ep(); e <= E.ep(); ++e) {
    epoch_rng = capture_rng(global_generator());   // a resume at this epoch redraws the same order
    const std::vector<int64_t> order = data.train_order(e);
    for (int64_t i = 0; i < ipe; ++i) {
      if (e == cur.ep() && i < cur.it()) continue;
      const Step step = Step::from_epoch(e, i, ipe);
      if (opt.on_step) opt.on_step(step);
      for (const auto& cb : cbs)
        if (cb.when(step)) {
          if (opt.on_callback) opt.on_callback(cb.name, step);
          cb.run(step);
        }
      if (i == 0) {  // images trained since the previous epoch start
        if (progress)
          progress->epoch(step.iteration(), images, logger.get("train_accuracy", step.iteration()),
                          logger.get("test_accuracy", step.iteration()));
        images = 0;
      }

      // convergence stop (SPEC 6.6.2; 0.001, persisted in the checkpoint)
      if (convergence_stop) {
        const auto tl = logger.get("train_loss", step.iteration());
        if (tl && *tl < 0.001) {
          save_model(model, dir, step);
          logger.save(dir);
          CheckpointState st;
          st.ep = step.ep();
          st.it = step.it();
          st.ipe = ipe;
          st.optimizer_steps = optimizer->steps();
          st.logger = logger.str();
          st.rng = epoch_rng;
          st.aug_seed = aug_seed;
          st.regain_done = regain_done;
          st.convergence_iteration = step.iteration();
          save_checkpoint(dir, model, *optimizer, am.views(), st);
          if (progress) progress->end_phase(step.iteration());
          return PhaseResult{step, false, true};
        }
      }
      if (step == E) {
        if (progress) progress->end_phase(step.iteration());
        return PhaseResult{E, false, false};
      }
      // regain (SPEC 6.6.1): every mask becomes one; the optimizer and its momentum are kept
      if (regain && step == *regain && !regain_done) {
        if (am.defined()) {
          am.mask.fill_(1.0);
          am.reset = Tensor();
          optimizer->set_mask(am.mask);
        }
        regain_done = true;
      }

      // one update
      const PhaseBatch batch = data.train_batch(order, i, e);
      optimizer->zero_grad();
      model.train();
      Tensor loss = ops::cross_entropy(model(batch.x), batch.y);
      loss.backward();
      {
        NoGradGuard ng;
        for (const Tensor& g : bn_weights) {   // gamma.grad += 1e-4 * sign(gamma)
          if (!g.requires_grad() || !g.grad().defined()) continue;
          std::vector<float> sgn = g.to_vector<float>();
          for (float& v : sgn) v = static_cast<float>((v > 0.f) - (v < 0.f));
          ops::axpy_(g.grad(), 1e-4f, Tensor::from_vector(sgn, g.shape(), g.device()));
        }
        if (theta0.defined()) {   // grad += lambda^2 (theta - theta0) on weights and biases
          Tensor diff = ops::mul(ops::sub(fp.params, theta0), penalty_mask);
          ops::axpy_(fp.grads, static_cast<float>(lambda * lambda), diff);
        }
      }
      optimizer->step(schedule.lr_at(step.iteration()));
      images += batch.size;
    }
  }
  SDD_FAIL("training loop ended without reaching the end step " << E.str());
  return PhaseResult{E, false, false};
}

}  // namespace sdd::exp
