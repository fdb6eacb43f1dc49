cmd_Release/obj.target/action_after_build.stamp := touch Release/obj.target/action_after_build.stamp
