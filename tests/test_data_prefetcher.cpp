// tests/test_data_prefetcher.cpp — the background batch producer: the same batches as the synchronous
// BatchIterator + make_batch path, producer exceptions reach the consumer, clean shutdown.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/errors.h"
#include "experiments/data/prefetcher.h"

using namespace sdd::exp;

namespace {

Dataset synthetic(int64_t n) {
  Dataset d;
  d.name = "synthetic";
  d.n = n;
  d.h = d.w = 8;
  d.c = 3;
  d.num_classes = 10;
  for (int64_t i = 0; i < n; ++i) {
    d.labels.push_back(i % 10);
    for (int64_t k = 0; k < 8 * 8 * 3; ++k) d.images.push_back(static_cast<uint8_t>((i * 13 + k * 7) % 256));
  }
  d.original_labels = d.labels;
  d.mean = {0.485f, 0.456f, 0.406f};
  d.std = {0.229f, 0.224f, 0.225f};
  d.augmentable = true;
  return d;
}

}  // namespace

TEST_CASE("prefetcher: same batches as the synchronous path, across epochs and from a resume point", "[data]") {
  const Dataset d = synthetic(23);
  const DataOrder order = DataOrder::seeded(23, 5, 7);  // 5 batches per epoch, last one of 3
  AugmentSpec spec;
  spec.enabled = true;
  spec.seed = 99;
  for (int64_t start_it : {0, 3}) {
    BatchIterator sync(order, 1, start_it);
    Prefetcher pre(d, order, spec, 1, start_it, 3, 12);
    for (int k = 0; k < 12; ++k) {
      const int64_t e = sync.epoch(), it = sync.iteration();
      const std::vector<int64_t> idx = sync.next();
      const Batch want = make_batch(d, idx, spec, e);
      const PrefetchItem got = pre.next();
      CHECK(got.epoch == e);
      CHECK(got.iteration == it);
      CHECK(got.batch.indices == idx);
      CHECK(got.batch.x.to_vector<float>() == want.x.to_vector<float>());
      CHECK(got.batch.y.to_vector<int64_t>() == want.y.to_vector<int64_t>());
    }
    CHECK(pre.consumed() == 12);
    CHECK_THROWS_AS(pre.next(), sdd::InternalError);  // past `count`
  }
}

TEST_CASE("prefetcher: producer exceptions reach the consumer in order", "[data]") {
  Prefetcher pre(
      [](int64_t k) {
        if (k == 3) SDD_USER_FAIL("bad batch " << k);
        PrefetchItem item;
        item.iteration = k;
        return item;
      },
      2);
  for (int64_t k = 0; k < 3; ++k) CHECK(pre.next().iteration == k);
  try {
    pre.next();
    FAIL("expected the producer's error");
  } catch (const sdd::UserError& e) {
    CHECK(std::string(e.what()).find("bad batch 3") != std::string::npos);
  }
}

TEST_CASE("prefetcher: bounded ring and clean shutdown of an endless producer", "[data]") {
  std::atomic<int64_t> produced{0};
  {
    Prefetcher pre(
        [&](int64_t k) {
          produced = k + 1;
          PrefetchItem item;
          item.iteration = k;
          return item;
        },
        2);
    CHECK(pre.next().iteration == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // At most 1 consumed + 2 ready + 1 in flight.
    CHECK(produced.load() <= 4);
  }  // the destructor stops and joins the worker
  const int64_t after = produced.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(produced.load() == after);
}
