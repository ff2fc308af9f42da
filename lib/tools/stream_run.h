// StreamRun: labelled frames through one or more
//   appsrc ! dofaclassify ! appsink
// chains of one pipeline, unpaced (each frame is pushed when the one before
// has left the element), each chain's streaming thread pinned to a CPU, with
// actions run at given frames and a record of every frame read from the
// element's metadata. The runs of `dofa bench rtm` and `dofa demo`.
#pragma once

#include <cstdint>
#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dofa::cli {

// 8-bit grey frames of one size, with their labels: the video.
struct GreyFrames {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // frame after frame, rows of `width` bytes
  std::vector<int> labels;
  int size() const { return int(labels.size()); }
};
// The first n images of a dataset (fmnist:test, ...), converted to grey.
GreyFrames load_grey_frames(const std::string& data, int n);

struct ChainSpec {
  std::string name;        // element name of its dofaclassify (and prefix of the others)
  std::string properties;  // dofaclassify properties in gst-launch syntax, e.g. "latency-ms=5 group=g"
  int frames = 0;          // frames to push; they cycle through the GreyFrames
  int cpu = -1;            // CPU of its streaming thread; -1: not pinned
};

struct FrameRecord {
  int index = 0;          // in its chain
  double t_ms = 0;        // when it left the element, since the first frame of the run
  int level = -1;
  double pre_ms = 0, infer_ms = 0;
  double target_ms = 0;   // latency-ms in force when it was classified
  double expected_accuracy = 0;  // of its level, percent
  int class_id = -1, label = -1;
  bool stale = false;
  double total_ms() const { return pre_ms + infer_ms; }
};

// A dofa-* bus message of a dofaclassify.
struct StreamMessage {
  double t_ms;
  std::string element;
  std::shared_ptr<GstStructure> structure;
};

class StreamRun {
 public:
  // Builds the pipeline (NULL state). Throws Error naming the launch line when it cannot.
  StreamRun(const GreyFrames& frames, const std::vector<ChainSpec>& chains);
  ~StreamRun();
  StreamRun(const StreamRun&) = delete;
  StreamRun& operator=(const StreamRun&) = delete;

  GstElement* element(int chain) const;  // its dofaclassify (for controllers, properties)
  // Runs `action` in the chain's streaming thread just before frame `frame`
  // enters its dofaclassify. Call before run().
  void at(int chain, int frame, std::function<void(GstElement* dofaclassify)> action);
  // Called in the streaming thread for every frame after it left the element.
  void on_frame(std::function<void(int chain, const FrameRecord&)> callback);

  // Plays to EOS; returns each chain's records. Throws Error with the
  // element's error message when the pipeline fails.
  std::vector<std::vector<FrameRecord>> run();
  const std::vector<StreamMessage>& messages() const;  // dofa-* messages of the last run

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// First frames of a run left out of its percentiles (caches, start-up).
constexpr size_t kWarmupFrames = 10;

// What the element reported at start (dofa-levels-measured), per level.
struct LevelInfo {
  std::vector<double> accuracy, measured_ms, table_p90_ms;
  int size() const { return int(accuracy.size()); }
};
// Starts the element with `properties` on 5 frames. Throws Error for fewer than 2 levels.
LevelInfo level_info(const GreyFrames& frames, const std::string& properties, int cpu);
// Rounds of an oracle (levels, pairs of elements), the highest p90 of each kept: a level whose
// frames fit between a busy thread's time slices in one round may not in the next (its p90 steps
// from L to L + the wait), and the runtime manager keeps a level only while its window meets the
// target.
constexpr int kOracleRounds = 3;
// p90 of pre + infer at each fixed level 0..levels-1 over n frames (the
// first kWarmupFrames left out), under one busy thread on `cpu` when `loaded`;
// with several rounds (levels in turn in each) the highest of a level's rounds.
std::vector<double> level_p90s(const GreyFrames& frames, const std::string& properties, int cpu, int levels, int n,
                               bool loaded, int rounds = 1);
// The most accurate level whose frames run between a busy thread's time slices (its
// loaded p90 within twice its idle one); -1 where none does.
int level_between_slices(const LevelInfo& levels, const std::vector<double>& idle, const std::vector<double>& loaded);

// The uninstalled plugin (build tree) unless GST_PLUGIN_PATH says otherwise; gst_init.
void init_gstreamer();

}  // namespace dofa::cli
