"""CreateServiceLinkedRole for EC2 Spot gives AWS's name and path (moto alone names it AWSServiceRoleForspot)."""


def test_spot_service_linked_role_has_aws_name_and_path(emulator):
    iam = emulator.client("iam")
    role = iam.create_service_linked_role(AWSServiceName="spot.amazonaws.com")["Role"]
    try:
        assert role["RoleName"] == "AWSServiceRoleForEC2Spot"
        assert role["Path"] == "/aws-service-role/spot.amazonaws.com/"
        listed = iam.list_roles(PathPrefix="/aws-service-role/spot.amazonaws.com/")["Roles"]
        assert [r["RoleName"] for r in listed] == ["AWSServiceRoleForEC2Spot"]
    finally:
        iam.delete_service_linked_role(RoleName=role["RoleName"])
