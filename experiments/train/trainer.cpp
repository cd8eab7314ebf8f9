// experiments/train/trainer.cpp — train_phase: the original's training loop (SPEC 6.3) with its
// callback list (SPEC 6.4), regain / convergence / BN-L1 / distance-penalty extensions (SPEC 6.6),
// model files, logger and checkpoint/resume.
#include "experiments/train/trainer.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "engine/autograd/autograd.h"
#include "engine/cpu/parallel_cpu.h"
#include "engine/dist/data_parallel.h"
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
#include "experiments/train/replicas.h"
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
// A step whose in-epoch part does not fit the loaded data (an iteration count such as 1000it, converted
// at the dataset's official size, on a smaller dataset) cannot keep its (ep, it): the runners name files
// by it, so it is a user error rather than a silent re-count.
Step at_ipe(const Step& s, int64_t ipe) {
  if (s.ipe() == ipe) return s;
  SDD_USER_CHECK(s.it() < ipe, "step " << s.ep_it() << " (iteration " << s.iteration() << " at " << s.ipe()
                                       << " iterations per epoch) does not fit the loaded training data, which has only "
                                       << ipe << " iterations per epoch; give the steps in epochs (e.g. "
                                       << s.ep() + 1 << "ep) or use the full dataset");
  return Step::from_epoch(s.ep(), s.it(), ipe);
}

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
  const double lr = tr.flt("lr");
  SDD_USER_CHECK(lr >= 0.0, "learning rate " << lr << " is not a number >= 0; give --lr (or the phase's --*_lr) a value >= 0");
  return optim::LrSchedule(lr, ms, gamma, warmup);
}

namespace {

// The training batches of one epoch, each next one built by an idle CPU pool thread while the current
// step computes (cpu::BackgroundTask). A batch is a pure function of (order, i, epoch), so whether it
// was built ahead, and by which thread, changes nothing. Disabled: every batch is built on demand.
class BatchPrefetch {
 public:
  BatchPrefetch(const PhaseData& data, const std::vector<int64_t>& order, int64_t epoch, bool enabled)
      : data_(data), order_(order), epoch_(epoch), enabled_(enabled) {}

  // Batch i (the one built ahead when it is i, else built now); then starts building batch `next`
  // of the same epoch (-1: none).
  PhaseBatch take(int64_t i, int64_t next) {
    PhaseBatch b;
    if (task_) {
      task_->wait();
      task_.reset();
      if (pending_i_ == i) b = std::move(pending_);
    }
    if (!b.x.defined()) b = data_.train_batch(order_, i, epoch_);
    if (enabled_ && next >= 0) {
      pending_i_ = next;
      task_ = std::make_unique<cpu::BackgroundTask>([this, next] { pending_ = data_.train_batch(order_, next, epoch_); });
    }
    return b;
  }

 private:
  const PhaseData& data_;
  const std::vector<int64_t>& order_;
  const int64_t epoch_;
  const bool enabled_;
  int64_t pending_i_ = -1;
  PhaseBatch pending_;
  std::unique_ptr<cpu::BackgroundTask> task_;   // last: destroyed (and waited for) first
};

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

namespace {

// One replica's training state: its arena, mask, optimizer, data and the SDD extension terms.
struct ReplicaState {
  nn::FlatParams fp;
  ArenaMask am;
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<PhaseData> data;
  std::vector<Tensor> bn_weights;   // gammas for the BN L1 term (network slimming only)
  Tensor theta0, penalty_mask;      // distance penalty (undefined when lambda = 0)
  bool f32_buffers = false;         // BN running statistics to keep equal to replica 0's
};

// The gradient terms added after backward (and, with replicas, after the all-reduce, identically on
// every replica): gamma.grad += 1e-4 sign(gamma); grad += lambda^2 (theta - theta0) on weights / biases.
void extra_gradient_terms(ReplicaState& st, double lambda) {
  NoGradGuard ng;
  if (!st.bn_weights.empty() || st.theta0.defined()) st.optimizer->note_direct_writes();
  for (const Tensor& g : st.bn_weights) {   // gamma.grad += 1e-4 * sign(gamma)
    if (!g.requires_grad() || !g.grad().defined()) continue;
    std::vector<float> sgn = g.to_vector<float>();
    for (float& v : sgn) v = static_cast<float>((v > 0.f) - (v < 0.f));
    ops::axpy_(g.grad(), 1e-4f, Tensor::from_vector(sgn, g.shape(), g.device()));
  }
  if (st.theta0.defined()) {   // grad += lambda^2 (theta - theta0) on weights and biases
    Tensor diff = ops::mul(ops::sub(st.fp.params, st.theta0), st.penalty_mask);
    ops::axpy_(st.fp.grads, static_cast<float>(lambda * lambda), diff);
  }
}

}  // namespace

PhaseResult train_phase(TrainTarget& target, const PhaseOptions& opt, RunContext& ctx) {
  SDD_CHECK(target.model != nullptr, "train_phase needs a model");
  SDD_CHECK(!opt.output_dir.empty(), "train_phase needs an output directory");
  models::Model& model = *target.model;
  const std::string& dir = opt.output_dir;
  const Hparams& tr = opt.training;
  // Under mpirun only process rank 0 writes (model files, logger, checkpoint) and prints; a barrier
  // after every write lets the other ranks read complete files.
  dist::Communicator* pcomm =
      ctx.process_comm && ctx.process_comm->world_size() > 1 ? ctx.process_comm.get() : nullptr;
  const bool writer = ctx.writes_files();
  const bool verbose = ctx.verbose && writer;
  if (writer) std::filesystem::create_directories(dir);
  if (!ctx.data) ctx.data = std::make_shared<DataCache>(ctx.dataset_root);
  DataCache& cache = *ctx.data;

  // ---- steps at the phase's ipe (from the data actually loaded)
  const int64_t ipe = phase_iterations_per_epoch(cache, opt.dataset);
  const Step S = at_ipe(opt.start, ipe);
  const Step E = opt.end ? at_ipe(*opt.end, ipe) : Step::from_str(tr.str("training_steps"), ipe);
  // What the files say, decided by process rank 0 (with the generator's position, so every process
  // draws the same unseeded data order).
  std::vector<uint64_t> agreed = {model_exists(dir, E) && MetricLogger::exists(dir) ? 1u : 0u,
                                  io::file_exists(checkpoint_path(dir)) ? 1u : 0u};
  if (pcomm) {
    const RngState g = capture_rng(global_generator());
    agreed.insert(agreed.end(), {g.seed, g.offset, static_cast<uint64_t>(g.buffered)});
    agree_values(*pcomm, ctx.device, agreed);
    restore_rng(global_generator(), RngState{agreed[2], agreed[3], static_cast<int>(agreed[4])});
  }
  if (agreed[0] != 0) return PhaseResult{E, true, false};

  // ---- model on the device, replicas, parameter arenas, masks, optimizers, schedule (SPEC 6.3 steps 1-2)
  model.to(ctx.device);
  SDD_CHECK(ctx.replicas.size() <= 1 || ctx.replicas.front() == ctx.device,
            "RunContext: replica 0 is on " << ctx.replicas.front().str() << " but the device is " << ctx.device.str());
  ReplicaSet reps(model, ctx.replicas.size() > 1 ? ctx.replicas : std::vector<Device>{ctx.device},
                  pcomm ? ctx.process_comm : nullptr);
  const int L = reps.local_count();
  const bool parallel = reps.parallel();
  std::vector<ReplicaState> st(static_cast<size_t>(L));
  for (int r = 0; r < L; ++r) {
    ReplicaState& s = st[static_cast<size_t>(r)];
    s.fp = nn::flatten_parameters(reps.model(r));
    s.am = build_arena_mask(target.mask, target.freeze_type, target.freeze_reference, s.fp);
    s.optimizer = optim::make_optimizer(tr.str("optimizer_name"), s.fp, tr.flt("momentum"), tr.flt("nesterov_momentum"),
                                        tr.opt_flt("weight_decay").value_or(0.0));
    if (s.am.defined()) s.optimizer->set_mask(s.am.mask, s.am.reset);
    for (const auto& b : reps.model(r).named_buffers()) s.f32_buffers = s.f32_buffers || b.second.dtype() == DType::f32;
  }
  nn::FlatParams& fp = st[0].fp;
  ArenaMask& am = st[0].am;
  optim::Optimizer& optimizer = *st[0].optimizer;
  const optim::LrSchedule schedule = phase_schedule(tr, ipe);
  if (parallel)   // every replica starts from process rank 0's weights and buffers
    reps.run([&](int r) {
      ReplicaState& s = st[static_cast<size_t>(r)];
      dist::broadcast_parameters(reps.comm(r), s.fp.params, 0);
      dist::broadcast_buffers(reps.comm(r), reps.model(r), 0);
    });
  for (ReplicaState& s : st) apply_arena_mask(s.fp, s.am);   // the first forward already sees the masked network

  // ---- resume (SPEC 6.3 step 4): every replica loads the same checkpoint
  MetricLogger logger;
  bool regain_done = false;
  Step cur = S;
  const std::optional<int64_t> order_seed = tr.opt_int("data_order_seed");
  uint64_t aug_seed = 0;
  if (agreed[1] != 0) {
    LoadedCheckpoint ck = read_checkpoint(dir, model, optimizer, am.names, am.shapes, ipe);
    for (int r = 0; r < L; ++r) {
      ReplicaState& s = st[static_cast<size_t>(r)];
      reps.model(r).load_state(ck.model_state, /*strict=*/true);
      s.optimizer->load_state_tensors(ck.optimizer_state, ck.state.optimizer_steps);
      const nn::NamedTensors views = s.am.views();
      for (size_t i = 0; i < views.size(); ++i) Tensor(views[i].second).copy_(ck.masks[i].second);
      apply_arena_mask(s.fp, s.am);
    }
    logger = MetricLogger::parse(ck.state.logger, checkpoint_path(dir));
    regain_done = ck.state.regain_done;
    aug_seed = ck.state.aug_seed;
    restore_rng(global_generator(), ck.state.rng);
    cur = Step::from_epoch(ck.state.ep, ck.state.it, ipe);
    if (ck.state.convergence_iteration) {   // the phase had stopped early: finish its files and stop again
      const Step cs(*ck.state.convergence_iteration, ipe);
      if (writer) {
        if (!model_exists(dir, cs)) save_model(model, dir, cs);
        logger.save(dir);
      }
      reps.process_barrier();
      return PhaseResult{cs, false, true};
    }
  } else {
    aug_seed = order_seed ? static_cast<uint64_t>(*order_seed)
                          : (static_cast<uint64_t>(global_generator().next_u32()) << 32) | global_generator().next_u32();
  }
  if (E <= cur) {   // SPEC 6.3 step 6: nothing to do, no callbacks
    // A checkpoint at E is written after E's model and logger, so it is only found without them when
    // they were deleted or damaged since: the original then ends without its end model (the next level
    // fails to find it). Put them back from the checkpoint, which holds the same weights and logger.
    if (agreed[1] != 0 && cur == E && writer) {
      if (!model_exists(dir, E)) save_model(model, dir, E);
      logger.save(dir);
    }
    reps.process_barrier();
    return PhaseResult{E, false, false};
  }

  std::vector<const PhaseData*> data_of;
  for (int r = 0; r < L; ++r) {
    ReplicaState& s = st[static_cast<size_t>(r)];
    s.data = std::make_unique<PhaseData>(cache, opt.dataset, order_seed, reps.device(r), aug_seed);
    SDD_CHECK(s.data->ipe() == ipe, "data ipe " << s.data->ipe() << " != " << ipe);
    data_of.push_back(s.data.get());
  }
  PhaseData& data = *st[0].data;

  // ---- SDD extensions (SPEC 6.3 step 7)
  std::optional<Step> regain;
  if (const auto rs = tr.opt_str("regain_pruned_weights_steps"); rs && !rs->empty()) {
    regain = Step::from_str(*rs, ipe);
    if (*regain > E) regain = E;
  }
  const bool convergence_stop = tr.flag("use_convergence_stopping_criterion");
  if (tr.flag("bn_sparsity_regularization") && target.network_slimming)
    for (int r = 0; r < L; ++r)
      for (auto& nm : reps.model(r).named_modules())
        if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(nm.second)) st[static_cast<size_t>(r)].bn_weights.push_back(bn->weight);
  const double lambda = tr.opt_flt("distance_penalty").value_or(0.0);
  if (lambda != 0.0) {
    const Tensor theta0 = distance_reference(fp, dir, S);
    std::vector<float> pm(static_cast<size_t>(fp.total), 0.f);
    for (const auto& e : fp.entries)
      if (e.name.find("weight") != std::string::npos || e.name.find("bias") != std::string::npos)
        std::fill(pm.begin() + e.offset, pm.begin() + e.offset + e.numel, 1.f);
    for (int r = 0; r < L; ++r) {
      ReplicaState& s = st[static_cast<size_t>(r)];
      s.theta0 = r == 0 ? theta0 : theta0.to(reps.device(r));
      s.penalty_mask = Tensor::from_vector(pm, {fp.total}, reps.device(r));
    }
  }
  const bool log_clean = !opt.dataset.opt_str("unsupervised_labels").has_value();

  // ---- callbacks (SPEC 6.4)
  RngState epoch_rng = capture_rng(global_generator());
  const auto phase_t0 = std::chrono::steady_clock::now();
  auto at = [](const Step& x) { return [x](const Step& s) { return s == x; }; };
  auto every_epoch = [](const Step& s) { return s.it() == 0; };
  // On a CPU with several pool threads the evaluations of a step other than the end run in the
  // background on a copy of the model while the next epoch trains (evaluate.h); they are logged when
  // the next callback fires, before anything reads the logger (the checkpoint, the progress line, the
  // end of the phase). A resume at an epoch start evaluates it again, as without this. Not with the
  // convergence stop, which reads the train loss as soon as it is logged.
  std::unique_ptr<BackgroundEvaluation> background;
  if (!parallel && pcomm == nullptr && !convergence_stop && data.device().is_cpu() && cpu::threads() > 1)
    background = std::make_unique<BackgroundEvaluation>(model);
  auto eval = [&](const std::string& name) {
    return [&, name](const Step& s) {
      if (background && s != E) {
        background->queue(name, model, fp, data, s);
        return;
      }
      if (background) background->finish(logger, verbose, log_clean);
      if (!parallel) {
        eval_callback(name, model, data, s, logger, verbose, log_clean);
        return;
      }
      // sharded over the replicas, sums reduced (evaluate.h): every process logs the same values
      log_eval(name, s, evaluate_replicas(reps, data_of, name == "train", s.ep()), logger, verbose, log_clean);
    };
  };
  // A write: process rank 0 only, then every process waits until the file is complete.
  auto writes = [&](std::function<void(const Step&)> fn) {
    return [&, fn](const Step& s) {
      if (writer) fn(s);
      reps.process_barrier();
    };
  };
  auto checkpoint_state = [&](const Step& s) {
    CheckpointState cs;
    cs.ep = s.ep();
    cs.it = s.it();
    cs.ipe = ipe;
    cs.optimizer_steps = optimizer.steps();
    cs.logger = logger.str();
    cs.rng = epoch_rng;
    cs.aug_seed = aug_seed;
    cs.regain_done = regain_done;
    return cs;
  };
  std::vector<Callback> cbs = {
      {"save_model_at_start", at(S), writes([&](const Step& s) { save_model(model, dir, s); })},
      {"save_model_at_end", at(E), writes([&](const Step& s) { save_model(model, dir, s); })},
      {"save_logger_at_end", at(E), writes([&](const Step&) { logger.save(dir); })},
      {"checkpoint", every_epoch,
       writes([&](const Step& s) { save_checkpoint(dir, model, optimizer, am.views(), checkpoint_state(s)); })},
  };
  auto prepend = [&](Callback c) { cbs.insert(cbs.begin(), std::move(c)); };
  const bool timekeeper = opt.evaluate_only_at_end || !opt.test_eval_every_epoch;
  if (timekeeper && verbose)
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

  auto report_replicas = [&] {
    if (!opt.on_replicas) return;
    std::vector<models::Model*> ms;
    for (int r = 0; r < L; ++r) ms.push_back(&reps.model(r));
    opt.on_replicas(ms);
  };
  Progress* progress = writer ? ctx.progress.get() : nullptr;
  if (progress) progress->begin_phase(opt.label, cur.iteration(), E.iteration(), ipe);
  int64_t images = 0;
  bool grads_zero = false;   // the gradient arena is all zeros: the last update zeroed it (and nothing ran since)

  // ---- the loop (SPEC 6.3 step 8)
  for (int64_t e = cur.ep(); e <= E.ep(); ++e) {
    epoch_rng = capture_rng(global_generator());   // a resume at this epoch redraws the same order
    const std::vector<int64_t> order = data.train_order(e);
    BatchPrefetch prefetch(data, order, e, !parallel && data.device().is_cpu() && cpu::threads() > 1);
    for (int64_t i = 0; i < ipe; ++i) {
      if (e == cur.ep() && i < cur.it()) continue;
      const Step step = Step::from_epoch(e, i, ipe);
      if (opt.on_step) opt.on_step(step);
      bool first_callback = true;
      for (const auto& cb : cbs)
        if (cb.when(step)) {
          if (first_callback && background) background->finish(logger, verbose, log_clean);   // earlier evaluations
          first_callback = false;
          if (opt.on_callback) opt.on_callback(cb.name, step);
          cb.run(step);
        }
      if (background) background->start();   // this step's evaluations, while the next steps train
      if (i == 0) {  // images trained since the previous epoch start
        if (progress) progress->epoch(step.iteration(), images, logger.latest("train_accuracy"), logger.latest("test_accuracy"));
        images = 0;
      }

      // convergence stop (SPEC 6.6.2; 0.001, persisted in the checkpoint)
      if (convergence_stop) {
        const auto tl = logger.get("train_loss", step.iteration());
        if (tl && *tl < 0.001) {
          if (writer) {
            save_model(model, dir, step);
            logger.save(dir);
            CheckpointState cs = checkpoint_state(step);
            cs.convergence_iteration = step.iteration();
            save_checkpoint(dir, model, optimizer, am.views(), cs);
          }
          reps.process_barrier();
          if (progress) progress->end_phase(step.iteration());
          report_replicas();
          return PhaseResult{step, false, true};
        }
      }
      if (step == E) {
        if (progress) progress->end_phase(step.iteration());
        report_replicas();
        return PhaseResult{E, false, false};
      }
      // regain (SPEC 6.6.1): every mask becomes one; the optimizer and its momentum are kept
      if (regain && step == *regain && !regain_done) {
        for (ReplicaState& s : st)
          if (s.am.defined()) {
            s.am.mask.fill_(1.0);
            s.am.reset = Tensor();
            s.optimizer->set_mask(s.am.mask);
          }
        regain_done = true;
      }

      // one update
      const double lr = schedule.lr_at(step.iteration());
      if (!parallel) {
        const bool more = i + 1 < ipe && Step::from_epoch(e, i + 1, ipe) < E;
        const PhaseBatch batch = prefetch.take(i, more ? i + 1 : -1);
        if (!grads_zero) optimizer.zero_grad();
        model.train();
        Tensor loss = ops::cross_entropy(model(batch.x), batch.y);
        grads_zero = false;
        loss.backward();
        extra_gradient_terms(st[0], lambda);
        optimizer.step_and_zero_grad(lr);   // the next step's zero_grad, fused into this update
        grads_zero = true;
        images += batch.size;
        continue;
      }
      // Data parallel: every replica takes its shard of the SAME global batch, the gradient arenas
      // are combined in one all-reduce (the gradient of the mean over the global batch), then the
      // extra terms and the step run identically everywhere; BN statistics stay replica 0's.
      const std::vector<int64_t> idx = data.train_indices(order, i);
      const auto B = static_cast<int64_t>(idx.size());
      reps.run([&](int r) {
        ReplicaState& s = st[static_cast<size_t>(r)];
        models::Model& m = reps.model(r);
        const dist::Shard sh = dist::shard_of(B, reps.world_size(), reps.global_rank(r));
        s.optimizer->zero_grad();
        m.train();
        if (!sh.empty()) {
          const std::vector<int64_t> rows(idx.begin() + sh.begin, idx.begin() + sh.begin + sh.size);
          const PhaseBatch batch = s.data->train_batch_of(rows, e);
          Tensor loss = ops::cross_entropy(m(batch.x), batch.y);   // mean over the shard
          loss.backward();
        }
        dist::all_reduce_gradients(reps.comm(r), s.fp.grads, sh.size, B);
        s.optimizer->note_direct_writes();
        extra_gradient_terms(s, lambda);
        s.optimizer->step(lr);
        if (s.f32_buffers) dist::broadcast_buffers(reps.comm(r), m, 0);
      });
      images += B;
    }
  }
  SDD_FAIL("training loop ended without reaching the end step " << E.str());
  return PhaseResult{E, false, false};
}

}  // namespace sdd::exp
