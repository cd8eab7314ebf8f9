// engine/io/run_lock.h — one writer per run directory. Two processes running the same experiment
// into the same directory would overwrite each other's checkpoints and loggers (with unseeded data
// order, mixing two different runs), so a run holds an exclusive advisory lock (flock) on a lock file
// while it writes. The kernel drops the lock when the process ends in any way, SIGKILL included, so a
// killed run never blocks its own relaunch. On a file system without locks the run goes on unlocked.
#pragma once
#include <string>

namespace sdd::io {

class RunLock {
 public:
  // Creates `path` if needed and locks it without waiting. When another process holds it, throws a
  // one-line UserError naming `what` (e.g. the experiment directory) and the holder's pid and host.
  RunLock(const std::string& path, const std::string& what);
  ~RunLock();   // unlocks (the file stays: removing it could race with a process about to lock it)
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  bool locked() const { return locked_; }   // false on file systems that do not support locks

 private:
  int fd_ = -1;
  bool locked_ = false;
};

}  // namespace sdd::io
