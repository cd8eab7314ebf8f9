// experiments/runners/train_runner.cpp — the `train` runner (SPEC 8.4): one dense training of a fresh
// model from step 0 to training_steps into <root>/train_<md5>/replicate_R/main.
#include <filesystem>
#include <fstream>
#include <memory>

#include "engine/device.h"
#include "engine/dist/communicator.h"
#include "engine/errors.h"
#include "engine/precision.h"
#include "engine/rng.h"
#include "experiments/branches/branch.h"
#include "experiments/runners/device_select.h"
#include "experiments/train/data_source.h"
#include "engine/io/atomic_file.h"
#include "engine/io/run_lock.h"
#include "experiments/runners/level_models.h"
#include "experiments/runners/level_table.h"
#include "experiments/hparams/yaml_config.h"
#include "experiments/runners/paths.h"
#include "experiments/train/progress.h"
#include "experiments/runners/runner.h"

namespace sdd::exp {

void run_train(const Experiment& e, RunContext& ctx, std::ostream& out) {
  const Description& d = e.desc;
  const std::string dir = train_run_path(e.global.results_root, d, e.global.replicate);
  if (ctx.verbose) out << experiment_banner(e) << std::flush;
  if (ctx.writes_files()) {   // under mpirun only rank 0 writes
    make_dirs(dir);
    if (!std::ifstream(dir + "/hparams.log")) io::write_file_atomic(dir + "/hparams.log", d.hparams_log());
    if (!io::file_exists(dir + "/config.yaml")) io::write_file_atomic(dir + "/config.yaml", experiment_to_yaml(e));
  }
  if (ctx.progress) ctx.progress->set_total_work(d.train_end_step().iteration());

  models::ModelPtr m = fresh_model(d.model, bundle_num_classes(d.dataset));
  TrainTarget target;
  target.model = m.get();
  PhaseOptions opt;
  opt.output_dir = dir;
  opt.training = d.training;
  opt.dataset = d.dataset;
  opt.start = Step(0, d.ipe());
  opt.end = d.train_end_step();
  opt.evaluate_only_at_end = e.global.evaluate_only_at_end;
  opt.label = "train";
  train_phase(target, opt, ctx);

  LevelRow row = read_level_row(dir, "main");
  out << level_summary_line(row) << "\n" << level_table({row}, dir) << std::flush;
}

RunContext make_run_context(const GlobalOptions& g, std::ostream& warn) {
  RunContext ctx;
  // Devices (device_select.h): every listed GPU is a data-parallel replica of this process (replicas.h);
  // under mpirun each process trains one replica on GPU `local rank` (or the CPU) over ctx.process_comm.
  const std::vector<Device> devices = select_devices(g.device, g.gpu, cuda_device_count(), warn, cpu_replicas_from_env());
  if (dist::launched_under_mpi()) {
    SDD_USER_CHECK(dist::backend_built(dist::Backend::Mpi),
                   "sparsedd was started by mpirun but built without MPI; install libopenmpi-dev and rebuild, or run "
                   "one process (--gpu=0,1,... uses several GPUs in one process)");
    ctx.device = process_device(devices, launcher_local_rank());
    ctx.process_comm = dist::make_process_communicator(ctx.device);
  } else {
    ctx.device = devices.front();
    if (devices.size() > 1) ctx.replicas = devices;
  }
  ctx.dataset_root = g.dataset_root;
  ctx.data = std::make_shared<DataCache>(g.dataset_root);  // datasets read once per process
  ctx.precision = g.precision;
  // The GPU math mode (engine/precision.h); cuDNN deterministic exactly when torch_seed is set, as the original.
  set_math_mode({parse_precision(g.precision), g.torch_seed.has_value()});
  ctx.verbose = !g.quiet && ctx.writes_files();   // under mpirun only rank 0 prints
  ctx.progress = std::make_shared<Progress>(ctx.verbose);   // the live line on stderr (silent with --quiet)
  manual_seed(static_cast<uint64_t>(g.torch_seed.value_or(0)));
  return ctx;
}

void run_experiment(const Experiment& e, RunContext& ctx, std::ostream& out) {
  // One writing process per experiment directory (engine/io/run_lock.h); under mpirun rank 0 writes for
  // all ranks. A branch locks its own name, so different branches of a trunk may run side by side.
  std::unique_ptr<io::RunLock> lock;
  if (ctx.writes_files()) {
    const std::string rep = replicate_path(e.global.results_root, e.desc, e.global.replicate);
    make_dirs(rep);
    const std::string name = e.is_branch() ? e.branch_dir_name() : std::string("main");
    lock = std::make_unique<io::RunLock>(rep + "/.sparsedd-" + name + ".lock",
                                         e.is_branch() ? rep + " (" + name + ")" : rep);
    // Holding the lock, no other process writes this experiment's directories: temporaries there
    // were left by a killed run.
    size_t stale = io::remove_stale_temporaries(rep + "/" + name);   // the train runner's main
    std::error_code ec;
    for (std::filesystem::directory_iterator it(rep, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().filename().string().rfind("level_", 0) == 0)
        stale += io::remove_stale_temporaries(it->path().string() + "/" + name);
    if (stale > 0 && ctx.verbose)
      out << "removed " << stale << " unfinished temporary file(s) left by an interrupted run\n";
  }
  if (e.is_branch()) run_branch(e, ctx, out);  // experiments/branches/branch.h
  else if (e.desc.runner == "train") run_train(e, ctx, out);
  else run_pruning(e, ctx, out);
}

}  // namespace sdd::exp
