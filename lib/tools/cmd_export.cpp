// dofa export: a static sub-network as OFA users know it: net.config (the JSON
// of OFA's MobileNetV3.config) and `init`, its state_dict in the torch zip
// format with the static network's key names (ofa-facts §2.7, §3.3).
#include <c10/core/GradMode.h>
#include <glib.h>
#include <glib/gstdio.h>

#include <cstdio>

#include "cli.h"
#include "error.h"
#include "json_reader.h"
#include "supernet.h"
#include "system_info.h"
#include "torchfile.h"
#include "weight_keys.h"

namespace dofa::cli {

namespace {

void conv_layer(JsonWriter& w, int in, int out, int k, int stride, bool use_bn, Act act) {
  w.begin_object();
  w.key("name").value("ConvLayer").key("kernel_size").value(k).key("stride").value(stride);
  w.key("dilation").value(1).key("groups").value(1).key("bias").value(false).key("has_shuffle").value(false);
  w.key("use_se").value(false).key("in_channels").value(in).key("out_channels").value(out);
  w.key("use_bn").value(use_bn).key("act_func").value(act_name(act)).key("dropout_rate").value(0);
  w.key("ops_order").value("weight_bn_act");
  w.end_object();
}

std::string net_config(const Spec& s, const Arch& a) {
  JsonWriter w;
  w.begin_object();
  w.key("name").value("MobileNetV3");
  w.key("bn").begin_object().key("momentum").value(s.bn_momentum).key("eps").value(s.bn_eps).end_object();
  w.key("first_conv");
  conv_layer(w, s.in_channels, s.first_conv.width, s.first_conv.kernel, s.first_conv.stride, true, s.first_conv.act);
  w.key("blocks").begin_array();
  for (const LayerShape& l : net_shape(s, a).blocks) {
    const SuperBlock& b = *l.block;
    w.begin_object().key("name").value("ResidualBlock").key("conv").begin_object();
    w.key("name").value("MBConvLayer").key("in_channels").value(l.in).key("out_channels").value(l.out);
    w.key("kernel_size").value(l.kernel).key("stride").value(l.stride);
    w.key("expand_ratio").value(l.expand ? a.e[b.index - 1] : 1);
    if (l.expand) w.key("mid_channels").value(l.mid);
    else w.key("mid_channels").null();
    w.key("act_func").value(act_name(b.act)).key("use_se").value(b.se).key("groups").null();
    w.end_object().key("shortcut");
    if (b.residual) {
      w.begin_object().key("name").value("IdentityLayer").key("in_channels").value(l.in);
      w.key("out_channels").value(l.out).key("use_bn").value(false).key("act_func").null();
      w.key("dropout_rate").value(0).key("ops_order").value("weight_bn_act").end_object();
    } else {
      w.null();
    }
    w.end_object();
  }
  w.end_array();
  w.key("final_expand_layer");
  conv_layer(w, s.blocks.back().out, s.final_expand.width, 1, 1, true, s.final_expand.act);
  w.key("feature_mix_layer");
  conv_layer(w, s.final_expand.width, s.feature_mix.width, 1, 1, false, s.feature_mix.act);
  w.key("classifier").begin_object().key("name").value("LinearLayer");
  w.key("in_features").value(s.feature_mix.width).key("out_features").value(s.classes).key("bias").value(true);
  w.key("use_bn").value(false).key("act_func").null().key("dropout_rate").value(s.dropout);
  w.key("ops_order").value("weight_bn_act").end_object();
  w.end_object();
  return w.str();
}

void add_bn(TensorMap& out, const std::string& to, const Supernet& net, const std::string& from, int64_t c) {
  for (const char* f : {"weight", "bias", "running_mean", "running_var"})
    out[to + "." + f] = net.w(from + "." + f).narrow(0, 0, c).clone();
}

// The static sub-network's state_dict: blocks numbered consecutively, BN unfolded.
TensorMap static_state_dict(const Supernet& net, const Arch& a) {
  c10::NoGradGuard no_grad;
  const Spec& s = net.spec();
  TensorMap out;
  out["first_conv.conv.weight"] = net.w("first_conv.conv.weight").clone();
  add_bn(out, "first_conv.bn", net, "first_conv.bn", s.first_conv.width);
  int j = 0;
  for (const LayerShape& l : net_shape(s, a).blocks) {
    const SuperBlock& b = *l.block;
    const BlockKeys k = block_keys(b);
    const std::string p = "blocks." + std::to_string(j++) + ".conv.";
    if (l.expand) {
      out[p + "inverted_bottleneck.conv.weight"] =
          net.w(k.ib_conv + ".weight").narrow(0, 0, l.mid).narrow(1, 0, l.in).clone();
      add_bn(out, p + "inverted_bottleneck.bn", net, k.ib_bn, l.mid);
    }
    out[p + "depth_conv.conv.weight"] = net.active_kernel(b, l.mid, l.kernel).contiguous().clone();
    add_bn(out, p + "depth_conv.bn", net, k.dw_bn, l.mid);
    if (b.se) {
      out[p + "depth_conv.se.fc.reduce.weight"] =
          net.w(k.se + ".fc.reduce.weight").narrow(0, 0, l.se_mid).narrow(1, 0, l.mid).clone();
      out[p + "depth_conv.se.fc.reduce.bias"] = net.w(k.se + ".fc.reduce.bias").narrow(0, 0, l.se_mid).clone();
      out[p + "depth_conv.se.fc.expand.weight"] =
          net.w(k.se + ".fc.expand.weight").narrow(0, 0, l.mid).narrow(1, 0, l.se_mid).clone();
      out[p + "depth_conv.se.fc.expand.bias"] = net.w(k.se + ".fc.expand.bias").narrow(0, 0, l.mid).clone();
    }
    out[p + "point_linear.conv.weight"] = net.w(k.pw_conv + ".weight").narrow(0, 0, l.out).narrow(1, 0, l.mid).clone();
    add_bn(out, p + "point_linear.bn", net, k.pw_bn, l.out);
  }
  out["final_expand_layer.conv.weight"] = net.w("final_expand_layer.conv.weight").clone();
  add_bn(out, "final_expand_layer.bn", net, "final_expand_layer.bn", s.final_expand.width);
  out["feature_mix_layer.conv.weight"] = net.w("feature_mix_layer.conv.weight").clone();
  out["classifier.linear.weight"] = net.w("classifier.linear.weight").clone();
  out["classifier.linear.bias"] = net.w("classifier.linear.bias").clone();
  return out;
}

}  // namespace

int cmd_export(const std::vector<std::string>& args) {
  Options o(args, {"spec", "weights", "arch", "out"}, {});
  if (o.help()) {
    std::printf(
        "usage: dofa export --spec S --weights W --arch A --out DIR\n"
        "  Writes DIR/net.config (OFA's MobileNetV3 config JSON) and DIR/init (the static\n"
        "  sub-network's state_dict, torch zip format; load with torch.load and\n"
        "  ofa.utils.layers' MobileNetV3.build_from_config(json.load(...)).load_state_dict).\n");
    return 0;
  }
  Spec spec = load_spec(o);
  Arch arch = load_arch(o, spec);
  const std::string dir = o.require("out");
  Supernet net = Supernet::open(spec, o.get("weights", ""));
  TensorMap sd = static_state_dict(net, arch);
  std::string config = net_config(spec, arch);
  if (g_mkdir_with_parents(dir.c_str(), 0755) != 0) throw Error(dir + ": cannot create the directory");
  save_tensors(dir + "/init", sd);
  write_file_atomic(dir + "/net.config", config);
  std::printf("%s: net.config and init (%zu tensors) for arch %s\n", dir.c_str(), sd.size(), arch.to_text().c_str());
  return 0;
}

}  // namespace dofa::cli
