// experiments/train/trainer.h — one training phase: the standard loop of the original (SPEC 6.3-6.6)
// with its callbacks, evaluation cadence, model files, logger and checkpoint/resume.
//
// The runners (experiments/runners/) call train_phase() once per phase: pretraining, each level,
// each branch run. Everything a phase writes goes to PhaseOptions::output_dir:
//   model_ep{S.ep}_it{S.it}.safetensors, model_ep{E.ep}_it{E.it}.safetensors  (inner model state dict,
//       original tensor names; pruned positions exactly 0 with freeze type zero)
//   logger                 (original text format, written at E or at a convergence stop)
//   checkpoint.safetensors (every epoch, atomically: model, optimizer state, mask, RNG, data position,
//                           logger, convergence step; a relaunch resumes from it)
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/dist/communicator.h"
#include "engine/nn/module.h"
#include "engine/optim/lr_schedule.h"
#include "experiments/hparams/hparams.h"
#include "experiments/step.h"
#include "models/model.h"
#include "pruning/mask.h"

namespace sdd::exp {

class DataCache;   // experiments/train/data_source.h: datasets loaded once per process, per bundle
class Progress;    // experiments/train/progress.h: the live terminal line and ETAs

// Process-wide context of an experiment run (built once by main from the global options).
struct RunContext {
  Device device = Device::cpu();       // replica 0's device (the caller's model lives there)
  // Data parallelism (experiments/train/replicas.h). `replicas`: every device this process trains on,
  // one replica (thread) each; empty or one element is the single-replica run on `device`.
  // `process_comm`: set when started by mpirun with more than one rank (one replica per process);
  // null otherwise. The two do not combine (one process with several replicas, or one per process).
  std::vector<Device> replicas;
  std::shared_ptr<dist::Communicator> process_comm;
  std::string dataset_root;            // resolved (flag, env, default)
  std::string precision = "tf32";      // fp32 | tf32 | bf16 (CUDA only)
  bool verbose = true;                 // !--quiet
  std::shared_ptr<DataCache> data;     // may be null: train_phase creates one
  std::shared_ptr<Progress> progress;  // may be null: no live line

  // This process's rank among the MPI processes (0 without mpirun); only rank 0 writes result files.
  int process_rank() const { return process_comm ? process_comm->rank() : 0; }
  bool writes_files() const { return process_rank() == 0; }
};

// What is trained: the model plus its mask and freeze rule (SPEC 7.3-7.4).
struct TrainTarget {
  models::Model* model = nullptr;      // moved to ctx.device by train_phase
  pruning::Mask mask;                  // empty: dense (no masking at all)
  std::string freeze_type = "zero";    // zero | init | final | permuted
  nn::NamedTensors freeze_reference;   // V by prunable-tensor name (host f32), for non-zero freeze types
  // The pruning strategy is network_slimming (prunable type BN): only then does the training flag
  // bn_sparsity_regularization act (SPEC 6.6.3; otherwise a silent no-op as the original).
  bool network_slimming = false;
};

struct PhaseOptions {
  std::string output_dir;
  Hparams training;                    // a TrainingHparams bundle (or the finetuning copy)
  Hparams dataset;                     // a DatasetHparams bundle
  Step start;                          // S (ipe of `dataset`); default iteration 0
  std::optional<Step> end;             // E; default training_steps at the dataset's ipe
  bool evaluate_only_at_end = false;   // --evaluate_only_at_end (main runners only)
  bool test_eval_every_epoch = true;   // false reproduces the retrain branch of the original HEAD
  std::string label;                   // progress prefix, e.g. "level 3/20" or "pretrain"
  // Test hooks: on_step runs once at every step whose callback list runs (before the callbacks);
  // on_callback once per callback that fires, with its name (train_eval, test_eval, train_eval_at_start,
  // train_eval_at_end, test_eval_at_start, test_eval_at_end, save_model_at_start, save_model_at_end,
  // save_logger_at_end, checkpoint, timekeeper).
  std::function<void(const Step&)> on_step;
  std::function<void(const std::string&, const Step&)> on_callback;
  // Test hook: called once when the loop returns, with every local replica's model (replica 0 first;
  // one element without data parallelism).
  std::function<void(const std::vector<models::Model*>&)> on_replicas;
};

struct PhaseResult {
  Step end;                            // the step the phase ended at (E, or the convergence stop)
  bool skipped = false;                // the end model and logger already existed
  bool converged = false;              // stopped by use_convergence_stopping_criterion
};

// Runs one phase (SPEC 6.3 order): resume from output_dir/checkpoint.safetensors when present; for
// each epoch from S.ep to E.ep, for each batch: callbacks (train eval, test eval, model saves,
// checkpoint at epoch starts), convergence check, return at E, regain switch at
// regain_pruned_weights_steps, then one update (zero grad, train mode, loss, backward, BN L1 term,
// masked optimizer step, schedule). A phase whose end model and logger exist is skipped.
//
// Steps: PhaseOptions::start / end are re-expressed at the phase's ipe, computed from the data actually
// loaded (phase_iterations_per_epoch in data_source.h); when their ipe differs they keep (ep, it).
// Masking (SPEC 7.3-7.4): the model is flattened into the arena, the mask becomes an arena-shaped f32
// tensor (1 at unmasked positions) handed to the optimizer; at phase start w <- w*m (+ V*(1-m) for
// freeze types init / final / permuted), after every step the masked-SGD functor re-applies it.
// distance_penalty lambda adds the real gradient lambda^2 (theta - theta0) of 0.5 lambda^2 ||theta - theta0||^2
// over every parameter named *weight* / *bias*, theta0 = model_ep{S} of this phase (or the start
// weights). ctx.data is created when null.
//
// Data parallelism (issue 8; ctx.replicas with 2+ devices, or ctx.process_comm under mpirun; see
// replicas.h): replica 0 is target.model, every replica gets its own arena, mask and optimizer and
// starts from rank 0's weights and buffers. Each step the global batch (batch_size, the same data order,
// label noise and augmentation as one replica) is cut by dist::shard_of; each replica runs forward and
// backward on its rows, dist::all_reduce_gradients makes every arena the gradient of the global mean
// (one call), the BN L1 / distance terms and the masked step follow identically everywhere, then BN
// running statistics are broadcast from rank 0 (per-shard batch statistics, as PyTorch's DataParallel).
// Evaluations are sharded by batch and their sums all-reduced (evaluate_replicas). Only process rank 0
// writes files and prints; the file decisions (skip, resume) and the generator position are rank 0's.
// With one replica the loop is the plain one above, with the same numerics.
PhaseResult train_phase(TrainTarget& target, const PhaseOptions& opt, RunContext& ctx);

// The LR schedule of a TrainingHparams bundle at `ipe` (milestones / warmup converted to iterations;
// UserError for gamma without milestones or the reverse).
optim::LrSchedule phase_schedule(const Hparams& training, int64_t ipe);

// File names used by train_phase and the runners.
std::string model_file_name(const Step& s);   // "model_ep2_it218.safetensors"
bool model_exists(const std::string& dir, const Step& s);
void save_model(const models::Model& m, const std::string& dir, const Step& s);
void load_model(models::Model& m, const std::string& dir, const Step& s);

}  // namespace sdd::exp
