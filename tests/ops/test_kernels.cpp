// run_node dispatch: wrong attribute kinds and input counts come back as Error::Internal.
#include "op_test_util.h"

namespace tessera::reference::testing {
namespace {

TEST(RefRunNode, WrongAttributeKindIsInternal) {
  Buf x({1, 1, 2, 2}), y({1, 1, 2, 2});
  ConstTensorView in[] = {x.view()};
  Status s = run_node(make_node(ir::Op::LeakyRelu, ir::ClipAttrs{}), in, y.mutable_view());
  EXPECT_EQ(s.code(), Error::Internal);
  EXPECT_NE(s.message().find("LeakyRelu"), std::string::npos) << s.message();
}

TEST(RefRunNode, WrongInputCountIsInternal) {
  Buf x({1, 1, 2, 2}), y({1, 1, 2, 2});
  ConstTensorView in[] = {x.view(), x.view()};
  EXPECT_EQ(run_node(make_node(ir::Op::Relu), in, y.mutable_view()).code(), Error::Internal);
  EXPECT_EQ(run_node(make_node(ir::Op::Add), std::span<const ConstTensorView>(in, 1), y.mutable_view()).code(),
            Error::Internal);
  EXPECT_EQ(run_node(make_node(ir::Op::Conv, ir::ConvAttrs{}), std::span<const ConstTensorView>(in, 1),
                     y.mutable_view())
                .code(),
            Error::Internal);
}

}  // namespace
}  // namespace tessera::reference::testing
