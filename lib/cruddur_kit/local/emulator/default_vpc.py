"""The default VPC as AWS makes it: an internet gateway attached, and 0.0.0.0/0 to it in the main route table.

moto creates each region's default VPC with its default subnets (public: MapPublicIpOnLaunch) but with no
internet gateway and no default route, so a correct "tasks cannot reach ECR/SSM" check fires on it after a
good setup. AWS's default VPC has both; so does this emulator's, from the moment a region's EC2 backend
exists (server start, or after POST /moto-api/reset).
"""

from __future__ import annotations

from moto.ec2.models import EC2Backend

_original_create_default_vpc = EC2Backend.create_default_vpc


def create_default_vpc(self):
    vpc = _original_create_default_vpc(self)
    igw = self.create_internet_gateway()
    self.attach_internet_gateway(igw.id, vpc.id)
    main = next(t for t in self.route_tables.values() if t.vpc_id == vpc.id and t.main_association_id)
    self.create_route(main.id, "0.0.0.0/0", gateway_id=igw.id)
    return vpc


def install() -> None:
    EC2Backend.create_default_vpc = create_default_vpc
